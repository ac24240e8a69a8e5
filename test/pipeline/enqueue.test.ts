import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { plannedSteps } from '../../src/onboarding/chain.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/** enqueueCustomers without workers: what a call writes, however the store and queue stood before it. */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'enqueue' });
});
afterAll(async () => {
  await t?.close();
});

const firstStep = plannedSteps(STANDARD_PROFILE)[0]!;

describe('enqueueCustomers', () => {
  it('queues a whole chunk at once: one first-step job and one queued record per customer, in order', async () => {
    const customers = sampleCustomers(250, 'Chunk');
    const { batch, customers: outcomes } = await t.enqueue(customers);
    expect(outcomes.map((c) => c.outcome)).toEqual(Array(250).fill('queued'));
    expect(outcomes.map((c) => c.key)).toEqual(customers.map((c) => c.external_id));
    expect(batch).toMatchObject({ total: 250, queued: 250 });
    const jobs = await t.pipeline.queue.getJobs(['waiting', 'prioritized', 'delayed']);
    const chunkJobs = jobs.filter((j) => j.data.customerKey.startsWith('Chunk-'));
    expect(chunkJobs).toHaveLength(250);
    expect(new Set(chunkJobs.map((j) => j.id))).toEqual(new Set(outcomes.map((c) => c.jobId)));
    const customersInBatch = await t.pipeline.store.batchCustomers(batch.id);
    expect(customersInBatch.map((c) => c.key)).toEqual(customers.map((c) => c.external_id));
  });

  it('a first-step job left by a producer that died before recording its customer is not added twice', async () => {
    const [customer] = sampleCustomers(1, 'Orphan');
    const first = await t.enqueue([customer!]);
    const runId = (await t.pipeline.queue.getJob(first.customers[0]!.jobId!))!.data.runId;
    // The crash: the job stays, the record (and the batch's count of it) never happened.
    await t.redis.del(`${t.prefix}:onb:customer:${customer!.external_id}`);
    const again = await t.enqueue([customer!]);
    expect(again.customers[0]).toMatchObject({ outcome: 'queued', jobId: jobIdFor('Orphan-1', firstStep) });
    const jobs = await t.pipeline.queue.getJobs(['waiting', 'prioritized', 'delayed']);
    const orphans = jobs.filter((j) => j.data.customerKey === 'Orphan-1');
    expect(orphans).toHaveLength(1);
    // The job kept is the first producer's, unchanged; when it starts it runs the chain as queued.
    expect(orphans[0]!.data.runId).toBe(runId);
    expect(first.customers[0]!.jobId).toBe(again.customers[0]!.jobId);
  });

  it('a customer seen as onboarded that failed before the claim is not left without a job', async () => {
    const { store } = t.pipeline;
    const [customer] = sampleCustomers(1, 'Late');
    const { batch } = await t.enqueue([customer!]);
    await store.markFailed('Late-1', firstStep, 'test: failed', true);
    // A producer that read the record while it was still queued claims it without a job: the
    // claim refuses and asks for one instead of recording a chain nobody runs.
    const claim = { batchId: batch.id, key: 'Late-1', runId: 'another-run', position: 99, fields: {} };
    expect(await store.claim({ ...claim, hasJob: false })).toBe('needs-job');
    expect(await store.getCustomer('Late-1')).toMatchObject({ state: 'failed', batchId: batch.id });
    // Through enqueueCustomers the failed chain is replaced by a new one with its own job.
    const retry = await t.enqueue([customer!]);
    expect(retry.customers[0]).toMatchObject({ outcome: 'replaced' });
    const job = await t.pipeline.queue.getJob(jobIdFor('Late-1', firstStep));
    expect(job?.data.batchId).toBe(retry.batch.id);
  });
});
