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
});
