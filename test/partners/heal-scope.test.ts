import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScope } from '../../src/reconcile/scope.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';

/**
 * Reconcile's healing candidates on an install with two data centres (docs/partners.md): a queued
 * customer whose chain waits in its own data centre's queue is in flight, not a record to rebuild.
 * No worker runs here, so the first step's job stays waiting.
 */
let t: TwoPartnerInstall;

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'partners-heal-scope' });
});
afterAll(async () => {
  await t?.close();
});

describe('healing candidates with two data centres', () => {
  it("finds a queued customer's waiting job in its own data centre's queue: not healed", async () => {
    const [west] = sampleCustomers(1, 'West', { partner: 'dc2' });
    const [east] = sampleCustomers(1, 'East', { partner: 'dc1' });
    await t.producer.enqueue({ source: 'test', label: 'waiting' }, [west!, east!]);
    const deps = { store: t.app.store, queueFor: (partner: string | undefined) => t.app.queueFor(partner) };
    const scope = await loadScope(deps, ['West-1', 'East-1']);
    expect(scope.customers.get('West-1')).toMatchObject({ record: { state: 'queued', partner: 'dc2' }, heal: false });
    expect(scope.customers.get('East-1')).toMatchObject({ record: { state: 'queued', partner: 'dc1' }, heal: false });
    // The job is the second data centre's only: looked for in the first, the chain would seem lost.
    const live = ['waiting', 'prioritized', 'waiting-children', 'delayed'] as const;
    expect(await t.app.queues[1]!.getJobCountByTypes(...live)).toBeGreaterThan(0);
    const firstOnly = await loadScope({ store: t.app.store, queueFor: () => t.app.queue }, ['West-1']);
    expect(firstOnly.customers.get('West-1')?.heal).toBe(true);
  });
});
