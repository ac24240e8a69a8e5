import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { retryBatch, retryCustomer } from '../../src/workers/retry.js';
import { failedForGood } from '../../src/workers/step-worker.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

let t: TestPipeline;

beforeAll(async () => {
  // Two attempts per step, so a fault on three consecutive PUTs exhausts a step for sure.
  t = await startTestPipeline({ label: 'retry', env: { STEP_ATTEMPTS: '2' } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const calls = (endpoint: string) => Object.values(t.sim.stats().byEndpoint[endpoint] ?? {}).reduce((a, b) => a + b, 0);

describe('retry after a forced failure at assign-roles', () => {
  it('marks the customer failed at that step, and resumes there without creating the tenant or user again', async () => {
    t.sim.configure({
      faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: '^/users/\\{user_id\\}/access_policies$' }],
    });
    const [customer] = sampleCustomers(1, 'Retry');
    const { batch } = await t.enqueue([customer!]);
    const ended = await t.waitForBatch(batch.id);
    expect(ended).toMatchObject({ done: 0, failed: 1 });

    const failed = await t.pipeline.store.getCustomer('Retry-1');
    expect(failed).toMatchObject({ state: 'failed', failedStep: 'assign-roles' });
    expect(failed?.error).toContain('503');
    expect(failed?.facts.tenantId).toBeTruthy();

    t.sim.configure({ faults: [] });
    t.sim.resetStats();
    expect(await retryCustomer(t.pipeline, 'Retry-1')).toEqual({
      key: 'Retry-1',
      outcome: 'retried',
      step: 'assign-roles',
    });
    const again = await t.waitForBatch(batch.id);
    expect(again).toMatchObject({ done: 1, failed: 0 });

    expect(calls('POST /tenants')).toBe(0);
    expect(calls('GET /tenants')).toBe(0);
    expect(calls('POST /users')).toBe(0);
    expect(calls('GET /tenants/{tenant_id}/users')).toBe(0);
    expect(calls('PUT /users/{user_id}/access_policies')).toBe(1);
    expect(t.sim.state().tenants.filter((x) => x.customer_id === 'Retry-1')).toHaveLength(1);
    expect(await t.pipeline.store.getCustomer('Retry-1')).toMatchObject({ state: 'done' });
  });

  it("a retry that comes before the worker's failed event is not undone by it", async () => {
    t.sim.configure({
      faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: '^/users/\\{user_id\\}/access_policies$' }],
    });
    const [customer] = sampleCustomers(1, 'RetryRace');
    const { batch } = await t.enqueue([customer!]);
    await t.waitForBatch(batch.id);
    t.sim.configure({ faults: [] });
    const job = (await t.pipeline.queue.getJob(jobIdFor('RetryRace-1', 'assign-roles')))!;
    await until(() => job.isFailed(), 'the job to be moved to failed');
    const failed = (await t.pipeline.queue.getJob(job.id!))!;
    // The retry's first half (the record back to queued), then the 'failed' event's backstop as a
    // worker runs it when the event comes late: it must leave the requeued customer alone.
    expect((await t.pipeline.store.markRequeued('RetryRace-1')).applied).toBe(true);
    await failedForGood(
      { store: t.pipeline.store, logger: silentLogger } as never,
      failed,
      new Error(failed.failedReason),
    );
    expect(await t.pipeline.store.getCustomer('RetryRace-1')).toMatchObject({ state: 'queued' });
    await failed.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1, failed: 0 });
  });

  it('retry of a batch retries only its failed customers and says when nothing failed', async () => {
    const { batch } = await t.enqueue(sampleCustomers(2, 'RetryBatch'));
    await t.waitForBatch(batch.id);
    expect(await retryBatch(t.pipeline, batch.id)).toEqual([]);
    expect(await retryCustomer(t.pipeline, 'RetryBatch-1')).toEqual({
      key: 'RetryBatch-1',
      outcome: 'not-failed',
      state: 'done',
    });
    expect(await retryCustomer(t.pipeline, 'nobody')).toEqual({ key: 'nobody', outcome: 'unknown' });
  });
});
