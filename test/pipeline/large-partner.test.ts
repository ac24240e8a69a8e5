import { describe, expect, it } from 'vitest';
import type { SimulatorOptions } from '../../src/simulator/index.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline } from '../helpers/pipeline.js';

/**
 * An MSP's scale: 50 new customers into a partner that already has 5,000 (the simulator seeded
 * with `customers: 5000`, listings paged as the API pages them) cost the same API calls per
 * customer as into an empty partner, and no customer walks the partner's children.
 *
 * Before create-tenant looked a name up directly, it listed the partner's children for every
 * customer: two full pages of 5,000 tenants each here. This test is what keeps that from coming back.
 */

const CUSTOMERS = 50;
const EXISTING = 5000;

/** API calls by endpoint (every status together) for the same 50 customers; the token issue is not per customer. */
async function onboardFifty(label: string, sim: Partial<SimulatorOptions>): Promise<Record<string, number>> {
  const t = await startTestPipeline({ label, sim });
  try {
    await t.startWorkers();
    t.sim.resetStats();
    const customers = sampleCustomers(CUSTOMERS, 'Scale');
    const { batch } = await t.enqueue(customers);
    expect(await t.waitForBatch(batch.id, 240_000)).toMatchObject({ done: CUSTOMERS, failed: 0 });
    expectEachOnboardedOnce(t.sim.state(), customers);
    const stats = t.sim.stats();
    expect(stats.responseViolations).toEqual([]);
    return Object.fromEntries(
      Object.entries(stats.byEndpoint)
        .filter(([endpoint]) => endpoint !== 'POST /idp/token')
        .map(([endpoint, byStatus]) => [endpoint, Object.values(byStatus).reduce((a, b) => a + b, 0)]),
    );
  } finally {
    await t.close();
  }
}

describe(`${CUSTOMERS} customers into a partner that already has ${EXISTING.toLocaleString('en')}`, () => {
  it('cost the same API calls per customer as into an empty partner, with no per-customer children listing', async () => {
    const empty = await onboardFifty('scale-empty', {});
    const large = await onboardFifty('scale-large', { customers: EXISTING });
    const perCustomer = (calls: Record<string, number>) => Object.values(calls).reduce((a, b) => a + b, 0) / CUSTOMERS;

    expect(large, `calls into the large partner (${perCustomer(large)} per customer) vs an empty one`).toEqual(empty);
    expect(perCustomer(large)).toBe(perCustomer(empty));
    // Fewer GET /tenants than customers: no customer pays a walk over the partner's 5,000 children.
    expect(large['GET /tenants'] ?? 0, 'GET /tenants (children listing) calls').toBeLessThan(CUSTOMERS);
    expect(large['GET /tenants/{tenant_id}/children'] ?? 0).toBeLessThan(CUSTOMERS);
  }, 600_000);
});
