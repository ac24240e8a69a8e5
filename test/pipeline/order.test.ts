import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchRecord } from '../../src/workers/onboarding-store.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

let t: TestPipeline;
const CUSTOMERS = 80;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'order' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('customers finish one by one', () => {
  it('a customer that has started runs to its end before new ones start: the first are done while most have not begun', async () => {
    const { batch } = await t.enqueue(sampleCustomers(CUSTOMERS, 'Order'));
    let firstDone: BatchRecord | undefined;
    await until(async () => {
      const now = await t.pipeline.store.getBatch(batch.id);
      if ((now?.done ?? 0) >= 5) firstDone = now;
      return firstDone !== undefined;
    }, 'the first customers to be done');
    // One worker of 16 holds about 16 customers in flight; with one FIFO queue all 80 would
    // have run their first step before anyone finished.
    expect(firstDone!.queued, JSON.stringify(firstDone)).toBeGreaterThan(CUSTOMERS / 2);

    const ended = await t.waitForBatch(batch.id);
    expect(ended).toMatchObject({ done: CUSTOMERS, failed: 0 });
  });

  it('a customer whose first step failed once is retried ahead of the customers not started yet', async () => {
    t.sim.configure({ faults: [{ kind: '5xx', status: 503, methods: ['POST'], path: '^/tenants$', times: 1 }] });
    const { batch } = await t.enqueue(sampleCustomers(CUSTOMERS, 'Retried'));
    await t.waitForBatch(batch.id);
    t.sim.configure({ faults: [] });

    const firstSteps = (await t.pipeline.queue.getJobs(['completed'], 0, -1))
      .filter((job) => job.name === 'create-tenant' && job.data.batchId === batch.id)
      .sort((a, b) => (a.finishedOn ?? 0) - (b.finishedOn ?? 0));
    expect(firstSteps).toHaveLength(CUSTOMERS);
    const retried = firstSteps.findIndex((job) => job.attemptsMade > 1);
    // Behind the customers not started yet it would finish last of all; ahead of them, among the first.
    expect(retried, 'position of the retried first step among all first steps').toBeGreaterThanOrEqual(0);
    expect(retried).toBeLessThan(CUSTOMERS / 2);
  });
});
