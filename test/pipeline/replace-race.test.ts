import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannedSteps } from '../../src/onboarding/chain.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { firstStepJob, removeChain } from '../../src/workers/enqueue.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * A failed customer imported again: the producer adds the new chain's first job, then claims the
 * record. A worker can start that job between the two (it did on a loaded CI machine), while the
 * record still holds the failed chain in its old batch. These tests put the steps in that order
 * by hand, with the producer's own functions, a real worker and the simulator.
 */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'replace-race' });
});
afterAll(async () => {
  await t?.close();
});

const firstStep = plannedSteps(STANDARD_PROFILE)[0]!;
const jobDeps = () => ({
  box: t.pipeline.box,
  profile: STANDARD_PROFILE,
  partnerTenantId: t.sim.seed.partnerTenantId,
});

/** A customer whose chain failed at its first step, in a batch of its own, with no job left. */
async function failedCustomer(prefix: string) {
  const [customer] = sampleCustomers(1, prefix);
  const { batch } = await t.enqueue([customer!]);
  const key = customer!.external_id!;
  await t.pipeline.store.markFailed(key, firstStep, `${firstStep}: test failure`, true);
  await removeChain(t.pipeline.queue, key);
  return { customer: customer!, key, oldBatch: batch.id };
}

describe('a new chain whose job starts before its producer claimed the record', () => {
  it('runs in the new batch: the old batch lets it go, the late claim changes nothing, nothing is counted twice', async () => {
    const { customer, key, oldBatch } = await failedCustomer('Early');
    const newBatch = await t.pipeline.store.createBatch({ source: 'test', label: 'again' });
    const runId = randomUUID();
    // The producer's first half: the new chain's job is added ...
    await t.pipeline.queue.addBulk([firstStepJob(jobDeps(), { batchId: newBatch.id, key, runId, request: customer })]);
    // ... and a worker runs the chain to its end before the producer's claim comes.
    const workers = await t.startWorkers();
    try {
      await until(async () => (await t.pipeline.store.getCustomer(key))?.state === 'done', `${key} to be done`);
    } finally {
      await workers.close(2000);
    }
    const claim = { batchId: newBatch.id, key, runId, position: 0, hasJob: true, fields: { name: customer.name } };
    expect(await t.pipeline.store.claimAll([claim])).toEqual(['queued']);

    expect(await t.pipeline.store.getCustomer(key)).toMatchObject({ state: 'done', batchId: newBatch.id, runId });
    expect(await t.pipeline.store.getBatch(newBatch.id)).toMatchObject({
      total: 1,
      done: 1,
      failed: 0,
      skipped: 0,
      ended: true,
    });
    expect(await t.pipeline.store.getBatch(oldBatch)).toMatchObject({ total: 1, done: 0, failed: 0, moved: 1 });
    expect(t.sim.state().tenants.filter((tenant) => tenant.name === customer.name)).toHaveLength(1);
  });

  it('a job of a chain that a newer one replaced does nothing: no request, the record stays the new chain’s', async () => {
    const { customer, key } = await failedCustomer('Stale');
    // The customer is imported again: its new chain holds the record, queued (no worker yet).
    const again = await t.enqueue([customer]);
    expect(again.customers[0]).toMatchObject({ outcome: 'replaced' });
    const current = await t.pipeline.store.getCustomer(key);
    await removeChain(t.pipeline.queue, key);
    // A job of the replaced chain turns up late (a stalled run BullMQ hands out again).
    const staleRun = randomUUID();
    const stale = firstStepJob(jobDeps(), { batchId: again.batch.id, key, runId: staleRun, request: customer });
    await t.pipeline.queue.addBulk([stale]);
    t.sim.resetStats();
    const workers = await t.startWorkers();
    try {
      await until(
        async () => (await t.pipeline.queue.getJob(stale.opts.jobId))?.isCompleted() ?? false,
        'the stale job to end',
      );
    } finally {
      await workers.close(2000);
    }
    // The worker's start-up reads its API client; the stale job sends nothing.
    const sent = Object.keys(t.sim.stats().byEndpoint).filter((endpoint) => endpoint !== 'GET /clients/{client_id}');
    expect(sent).toEqual([]);
    expect(await t.pipeline.store.getCustomer(key)).toMatchObject({
      state: 'queued',
      runId: current!.runId,
      batchId: again.batch.id,
    });
    const logs = await t.pipeline.queue.getJobLogs(stale.opts.jobId);
    expect(logs.logs.join('\n')).toContain('superseded');
  });
});

describe('the last step run again after the customer was onboarded (its worker died after recording it)', () => {
  it('leaves the facts changed since alone (a lifecycle change, a resend) and counts nothing twice', async () => {
    const [customer] = sampleCustomers(1, 'Rerun');
    const key = customer!.external_id!;
    const { batch } = await t.enqueue([customer!]);
    const workers = await t.startWorkers();
    try {
      expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
      // A change recorded its own quotas after the onboarding.
      expect(await t.pipeline.store.amendFacts(key, (facts) => ({ ...facts, ownQuotas: { workstations: 99 } }))).toBe(
        true,
      );
      // The last step's job comes back, as after a stall: same run, same data.
      const lastStep = plannedSteps(STANDARD_PROFILE).at(-1)!;
      const jobId = jobIdFor(key, lastStep);
      const done = (await t.pipeline.queue.getJob(jobId))!;
      const data = done.data;
      await done.remove();
      await t.pipeline.queue.add(lastStep, data, { jobId });
      await until(async () => (await t.pipeline.queue.getJob(jobId))?.isCompleted() ?? false, 'the re-run to end');
    } finally {
      await workers.close(2000);
    }
    const record = await t.pipeline.store.getCustomer(key);
    expect(record).toMatchObject({ state: 'done' });
    expect(record?.facts?.ownQuotas).toEqual({ workstations: 99 });
    expect(await t.pipeline.store.getBatch(batch.id)).toMatchObject({ total: 1, done: 1, failed: 0 });
  });
});

describe('a first job that starts before its producer claimed the customer', () => {
  it('lists the customer at its place in the file, not after the customers claimed before it started', async () => {
    const [first, second] = sampleCustomers(2, 'Place');
    const batch = await t.pipeline.store.createBatch({ source: 'test', label: 'in file order' });
    const workers = await t.startWorkers();
    try {
      // The second row's job runs to its end first, then the first row's: each before any claim.
      for (const [customer, position] of [
        [second!, 1],
        [first!, 0],
      ] as const) {
        const key = customer.external_id!;
        const job = firstStepJob(jobDeps(), {
          batchId: batch.id,
          key,
          runId: randomUUID(),
          request: customer,
          position,
        });
        await t.pipeline.queue.addBulk([job]);
        await until(async () => (await t.pipeline.store.getCustomer(key))?.state === 'done', `${key} to be done`);
      }
    } finally {
      await workers.close(2000);
    }
    expect((await t.pipeline.store.batchCustomers(batch.id)).map((c) => c.key)).toEqual([
      first!.external_id,
      second!.external_id,
    ]);
  });
});
