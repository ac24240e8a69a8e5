/**
 * Stops a BullMQ worker within `timeoutMs`. Worker.close() waits for active jobs with no time
 * limit (docs/bullmq.md §1.7), and for its connections, which while Redis is away may be never;
 * close(true) after close() only returns the first call's promise. So at the deadline the
 * blocking connection is cut by hand and the caller goes on: a job still running then keeps
 * its lock only until the lock expires, and runs again as stalled on another worker (every
 * step is idempotent).
 */
export async function closeWithin(
  worker: ClosableWorker,
  timeoutMs: number,
  /** True when nothing is left to wait for (Redis away and no step running): the close is cut at once. */
  nothingToWaitFor: () => boolean = () => false,
): Promise<{ forced: boolean }> {
  let timer: NodeJS.Timeout | undefined;
  let poll: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const idle = new Promise<'idle'>((resolve) => {
    poll = setInterval(() => nothingToWaitFor() && resolve('idle'), IDLE_CHECK_MS);
  });
  const closed = worker.close().then(
    () => 'closed' as const,
    () => 'closed' as const,
  );
  const outcome = await Promise.race([closed, timedOut, idle]);
  clearTimeout(timer);
  clearInterval(poll);
  if (outcome !== 'closed') cutBlockingConnection(worker);
  return { forced: outcome === 'timeout' };
}

const IDLE_CHECK_MS = 100;

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
