import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { kindsOf, sweep } from '../helpers/reconcile.js';

/**
 * Healing (docs/reconcile.md "Healing a record"): a tenant that carries our customer_id while our
 * record is lost, failed, or queued with no job gets its record rebuilt from the API — what a
 * Redis failover that lost the last writes leaves behind.
 */

let t: TestPipeline;
const customers = sampleCustomers(5, 'Heal');
const key = (n: number) => `Heal-${n}`;
let batchId: string;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'reconcile-heal' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  batchId = batch.id;
  await t.waitForBatch(batchId);
});
afterAll(async () => t?.close());

describe('reconcile heals records', () => {
  it('rebuilds a lost, a failed and a queued-without-job record from the API, as onboarded, once', async () => {
    const { store, keys } = t.pipeline;
    const before = await store.getCustomers([key(1), key(2), key(3)]);
    // A failover that lost the claim: the record, its place in the batch and the batch's counts go together.
    await t.redis.del(keys.customer(key(1)));
    await t.redis.zrem(keys.batchCustomers(batchId), key(1));
    await t.redis.hincrby(keys.batch(batchId), 'total', -1);
    await t.redis.hincrby(keys.batch(batchId), 'done', -1);
    await store.transition(key(2), 'failed', '*', { failedStep: 'create-user', error: 'lost in a failover' });
    // The claim kept, the moves after it and the chain's jobs lost: queued with no job.
    await store.transition(key(3), 'queued', '*');

    const report = await sweep(t, STANDARD_PROFILE, { overlapMs: 0 });
    expect(report.healed).toBe(2);
    const kinds = kindsOf(report.findings);
    for (const n of [2, 3]) expect(kinds[key(n)], key(n)).toContain('record-healed');
    // Nothing of this install remembers it: only its external id, given by the operator, brings it back.
    expect(kinds[key(1)]).toBeUndefined();
    expect(kinds[key(4)]).not.toContain('record-healed');

    const named = await sweep(t, STANDARD_PROFILE, { customerIds: [key(1)] });
    expect(named.healed).toBe(1);
    const healed = named.findings[0]!.differences[0]!;
    expect(healed.text).toMatch(/record said nothing \(the record was lost\): rebuilt from the API/);

    const onboarded = expectEachOnboardedOnce(t.sim.state(), customers);
    const after = await store.getCustomers([key(1), key(2), key(3)]);
    after.forEach((record, i) => {
      expect(record?.state, key(i + 1)).toBe('done');
      expect(record?.facts.tenantId).toBe(onboarded[i]!.tenant.id);
      expect(record?.facts.userId).toBe(onboarded[i]!.user.id);
      expect(record?.facts.login).toBe(before[i]!.facts.login);
      expect(record?.facts.edition).toBe('pck_per_workload');
      expect(record?.facts.activation).toBe('email-unconfirmed');
    });
    // The batch's counts follow: its four customers done, none queued or failed; the lost one in a batch of its own.
    const batch = await store.getBatch(batchId);
    const counts = { total: batch!.total, done: batch!.done, queued: batch!.queued, failed: batch!.failed };
    expect(counts).toEqual({ total: 4, done: 4, queued: 0, failed: 0 });
    const healBatch = await store.getBatch(after[0]!.batchId);
    expect(healBatch).toMatchObject({ source: 'reconcile', total: 1, done: 1 });

    const again = await sweep(t, STANDARD_PROFILE, { full: true });
    expect(again.healed).toBe(0);
  });

  it('leaves a failed customer whose tenant was never made to retry, and says nothing of it', async () => {
    const lone = sampleCustomers(1, 'NoTenant')[0]!;
    const claimed = await t.pipeline.store.createBatch({ source: 'test', label: 'no tenant' });
    await t.pipeline.store.claim({
      batchId: claimed.id,
      key: 'NoTenant-1',
      runId: 'r-1',
      position: 1,
      hasJob: true,
      fields: { name: lone.name },
    });
    await t.pipeline.store.markFailed('NoTenant-1', 'create-tenant', 'refused', false);
    const report = await sweep(t, STANDARD_PROFILE, { customerIds: ['NoTenant-1'] });
    expect(report.healed).toBe(0);
    expect(report.findings).toEqual([]);
    expect((await t.pipeline.store.getCustomer('NoTenant-1'))!.state).toBe('failed');
  });
});
