import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { reconcileDeps } from '../../src/reconcile/deps.js';
import { runSweep } from '../../src/reconcile/sweep.js';
import { consoleEdit, customerAt, kindsOf, sweep } from '../helpers/reconcile.js';

/**
 * What an ordinary sweep sees and costs (docs/reconcile.md "Cost"): the tenants listing with
 * items inline and the users listing with roles, then the batched usages read of the customers
 * without an agent; counted at the simulator. Console edits that move no tenant's `updated_at`
 * (a quota, a role, an agent) are found without any per-customer read.
 */

let t: TestPipeline;
const customers = sampleCustomers(6, 'Inc');
const key = (n: number) => `Inc-${n}`;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'reconcile-incremental' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  await t.waitForBatch(batch.id);
});
afterAll(async () => t?.close());

/** Calls at the simulator since the last reset, by endpoint. */
function callsByEndpoint(): Record<string, number> {
  const by = t.sim.stats().byEndpoint;
  return Object.fromEntries(
    Object.entries(by).map(([endpoint, statuses]) => [endpoint, Object.values(statuses).reduce((a, b) => a + b, 0)]),
  );
}

const PAGES_AND_USAGES = { 'GET /tenants': 1, 'GET /users': 1, 'GET /tenants/usages': 1 };

describe('an ordinary sweep', () => {
  it('costs the listing pages and one batched usages read, however many customers', async () => {
    const first = await sweep(t, STANDARD_PROFILE);
    expect(first.mode).toBe('full');
    expect(first.customersChecked).toBe(6);
    t.sim.resetStats();
    const quiet = await sweep(t, STANDARD_PROFILE);
    expect(quiet.mode).toBe('incremental');
    expect(quiet.customersChecked).toBe(6);
    expect(callsByEndpoint()).toEqual(PAGES_AND_USAGES);
    expect(quiet.calls).toBe(3);
    expect(quiet.listingPages).toBe(2);
    expect(quiet.drifting).toBe(6);
  });

  it('finds a quota edit, an item turned off, a role change and a disabled tenant made in the console', async () => {
    const tenant3 = customerAt(t, key(3)).tenantId;
    const items = t.sim.state().offeringItems[tenant3]!;
    const workstations = items.find((i) => i.usage_name === 'workstations')!;
    await consoleEdit(t.sim, 'quota', { tenant_id: tenant3, name: workstations.name, value: 7 });
    await consoleEdit(t.sim, 'user', { user_id: customerAt(t, key(4)).userId, roles: ['readonly_admin'] });
    await consoleEdit(t.sim, 'tenant', { tenant_id: customerAt(t, key(1)).tenantId, enabled: false });
    t.sim.resetStats();
    const report = await sweep(t, STANDARD_PROFILE, { overlapMs: 0 });
    const kinds = kindsOf(report.findings);
    expect(kinds[key(3)]).toContain('quota');
    expect(kinds[key(4)]).toContain('admin-role');
    expect(kinds[key(1)]).toContain('tenant-disabled');
    expect(kinds[key(2)]).not.toContain('quota');
    // No per-customer read: the same pages and one usages batch as a sweep with nothing changed.
    expect(callsByEndpoint()).toEqual(PAGES_AND_USAGES);
    expect(report.tenantsChanged).toBe(1);
  });

  it('asks usages only of customers without an agent; an agent once seen is not asked again, unless --full', async () => {
    const tenant5 = customerAt(t, key(5)).tenantId;
    const workstations = t.sim.state().offeringItems[tenant5]!.find((i) => i.usage_name === 'workstations')!;
    await consoleEdit(t.sim, 'usage', { tenant_id: tenant5, name: workstations.name, value: 2 });
    const seen = await sweep(t, STANDARD_PROFILE);
    expect(seen.findings.find((f) => f.customerId === key(5))?.funnel.agentRegistered).toBe(true);
    expect(kindsOf(seen.findings)[key(5)]).not.toContain('no-agent');
    const asked: string[][] = [];
    const deps = await reconcileDeps(t.pipeline, STANDARD_PROFILE);
    const getTenantsUsages: typeof deps.acronis.getTenantsUsages = async (ids, query) => {
      asked.push([...ids]);
      return t.pipeline.acronis.getTenantsUsages(ids, query);
    };
    const counting = { ...deps, acronis: { ...t.pipeline.acronis, getTenantsUsages } };
    const next = await runSweep(counting, {});
    expect(next.findings.find((f) => f.customerId === key(5))?.funnel.agentRegistered).toBe(true);
    expect(asked).toHaveLength(1);
    expect(asked[0]).toHaveLength(5);
    expect(asked[0]).not.toContain(tenant5);
    asked.length = 0;
    const full = await runSweep(counting, { full: true });
    expect(full.mode).toBe('full');
    expect(asked[0]).toContain(tenant5);
    expect(full.calls).toBe(3);
  });
});
