import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { spawnWorkerProcess, type WorkerProcess } from '../helpers/worker-process.js';
let t: TestPipeline;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // A short lock, so the jobs of a killed worker are noticed as stalled within seconds.
  t = await startTestPipeline({ label: 'crash', env: { JOB_LOCK_MS: '3000', ACRONIS_RATE_LIMIT: '40' } });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await t?.close();
});

function spawnWorker(): WorkerProcess {
  return spawnWorkerProcess(t.config, children);
}

describe('a worker process killed mid-batch', () => {
  it('SIGKILL: a second worker finishes every customer, none twice', async () => {
    const first = spawnWorker();
    const customers = sampleCustomers(20, 'Crash');
    const { batch } = await t.enqueue(customers);
    await until(async () => ((await t.pipeline.store.getBatch(batch.id))?.done ?? 0) >= 3, 'a few customers done');
    expect((await t.pipeline.store.getBatch(batch.id))?.ended).toBe(false);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = spawnWorker();
    const ended = await t.waitForBatch(batch.id, 90_000);
    expect(ended).toMatchObject({ done: 20, failed: 0 });
    expectEachOnboardedOnce(t.sim.state(), customers);
    second.child.kill('SIGTERM');
    const [code] = (await once(second.child, 'exit')) as [number | null];
    expect(code, second.output()).toBe(0);
  });

  it('SIGTERM: stops taking jobs, lets in-flight steps finish, exits 0; nothing is lost', async () => {
    const worker = spawnWorker();
    const customers = sampleCustomers(10, 'Term');
    const { batch } = await t.enqueue(customers);
    await until(async () => ((await t.pipeline.store.getBatch(batch.id))?.running ?? 0) > 0, 'steps running');
    worker.child.kill('SIGTERM');
    const [code] = (await once(worker.child, 'exit')) as [number | null];
    expect(code, worker.output()).toBe(0);
    expect(worker.output()).toContain('workers stopped');
    expect(await t.pipeline.queue.getActiveCount()).toBe(0);

    spawnWorker();
    expect(await t.waitForBatch(batch.id, 60_000)).toMatchObject({ done: 10, failed: 0 });
  });
});
