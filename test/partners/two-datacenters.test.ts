import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { PartnerMismatchError } from '../../src/workers/enqueue.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';

let t: TwoPartnerInstall;

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'two-dc', rateLimits: [40, 60] });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('one batch across two partners in two data centres', () => {
  it('onboards each customer once, in its own partner tenant, through its own data centre', async () => {
    const first = sampleCustomers(12, 'East', { partner: 'dc1' });
    const second = sampleCustomers(12, 'West', { partner: 'DC2' });
    const unnamed = sampleCustomers(4, 'Plain');
    const { batch, customers } = await t.producer.enqueue({ source: 'test', label: 'two dc' }, [
      ...first,
      ...second,
      ...unnamed,
    ]);
    expect(customers.map((c) => c.outcome)).toEqual(Array(28).fill('queued'));
    const ended = await t.waitForBatch(batch.id);
    expect(ended).toMatchObject({ total: 28, done: 28, failed: 0 });

    const [dc1, dc2] = t.sims;
    const inDc1 = expectEachOnboardedOnce(dc1.state(), [...first, ...unnamed]);
    const inDc2 = expectEachOnboardedOnce(dc2.state(), second);
    for (const { tenant } of inDc1) expect(tenant.parent_id).toBe(dc1.seed.partnerTenantId);
    for (const { tenant } of inDc2) expect(tenant.parent_id).toBe(dc2.seed.partnerTenantId);
    // Nothing of one partner's customers reached the other data centre.
    const keysIn = (state: ReturnType<typeof dc1.state>) => new Set(state.tenants.map((x) => x.customer_id));
    for (const c of second) expect(keysIn(dc1.state()).has(customerKeyOf(c))).toBe(false);
    for (const c of [...first, ...unnamed]) expect(keysIn(dc2.state()).has(customerKeyOf(c))).toBe(false);

    const records = await t.app.store.getCustomers(['East-1', 'West-1', 'Plain-1']);
    expect(records.map((r) => r?.partner)).toEqual(['dc1', 'dc2', 'dc1']);
    // Each data centre's agent install commands name its own URL.
    expect(inDc2.length).toBe(12);
  });

  it('keeps each data centre under its own limit: the simulators counted no 429', () => {
    for (const sim of t.sims) {
      const refused = Object.values(sim.stats().byEndpoint).reduce((n, byStatus) => n + (byStatus['429'] ?? 0), 0);
      expect(refused).toBe(0);
    }
  });

  it('refuses a customer known under one partner when asked for under another, queuing nothing', async () => {
    const moved = sampleCustomers(1, 'East', { partner: 'dc2' });
    await expect(t.producer.enqueue({ source: 'test', label: 'moved' }, moved)).rejects.toBeInstanceOf(
      PartnerMismatchError,
    );
    const record = await t.app.store.getCustomer('East-1');
    expect(record).toMatchObject({ partner: 'dc1', state: 'done' });
  });

  it('works each data centre in its own queue', () => {
    expect(t.app.queues.map((q) => q.name)).toEqual([
      'onboarding',
      `onboarding.${new URL(t.sims[1].url).host.replace(':', '-')}`,
    ]);
  });
});
