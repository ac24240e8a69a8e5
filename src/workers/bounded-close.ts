/**
 * Stops a BullMQ worker within `timeoutMs`. Worker.close() waits for active jobs with no time
 * limit (docs/bullmq.md §1.7), and for its connections, which while Redis is away may be never;
 * close(true) after close() only returns the first call's promise. So at the deadline the
 * blocking connection is cut by hand and the caller goes on: a job still running then keeps
 * its lock only until the lock expires, and runs again as stalled on another worker (every
 * step is idempotent).
 */
export async function closeWithin(worker: ClosableWorker, timeoutMs: number): Promise<{ forced: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const outcome = await Promise.race([
    worker.close().then(
      () => 'closed' as const,
      () => 'closed' as const,
    ),
    timedOut,
  ]);
  clearTimeout(timer);
  if (outcome === 'timeout') cutBlockingConnection(worker);
  return { forced: outcome === 'timeout' };
}

/** A BullMQ Worker of any job type. */
interface ClosableWorker {
  close(): Promise<void>;
}

interface WithBlockingConnection {
  blockingConnection?: { client: Promise<{ disconnect(): void }> };
}

function cutBlockingConnection(worker: ClosableWorker): void {
  const blocking = (worker as unknown as WithBlockingConnection).blockingConnection;
  void blocking?.client.then((client) => client.disconnect()).catch(() => undefined);
}
