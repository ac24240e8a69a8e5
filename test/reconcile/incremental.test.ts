import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { reconcileDeps } from '../../src/reconcile/deps.js';
import { runSweep } from '../../src/reconcile/sweep.js';
import { consoleEdit, customerAt, kindsOf, sweep } from '../helpers/reconcile.js';

/**
 * The incremental sweep (docs/reconcile.md "Cost"): listing pages, then three calls for each
 * customer whose tenant or users changed, counted at the simulator; and what it cannot see, a
 * quota edited in the console, which moves no tenant's `updated_at`, found by the next full sweep.
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

describe('incremental sweep', () => {
  it('reads every customer the first time, then only listing pages while nothing changed', async () => {
    const first = await sweep(t, STANDARD_PROFILE, { overlapMs: 0 });
    expect(first.mode).toBe('full');
    expect(first.customersChecked).toBe(6);
    t.sim.resetStats();
    const quiet = await sweep(t, STANDARD_PROFILE, { overlapMs: 0 });
    expect(quiet.mode).toBe('incremental');
    expect(quiet.customersChecked).toBe(0);
    expect(callsByEndpoint()).toEqual({ 'GET /tenants': 1, 'GET /users': 1 });
    expect(quiet.calls).toBe(2);
    // The last findings stay: the Drift page still shows every customer.
    expect(quiet.drifting).toBe(6);
  });

  it('reads only the customers whose tenant or admin changed: three calls each', async () => {
    await consoleEdit(t.sim, 'tenant', { tenant_id: customerAt(t, key(1)).tenantId, enabled: false });
    await consoleEdit(t.sim, 'user', { user_id: customerAt(t, key(2)).userId, activated: true });
    const workstations = t.sim
      .state()
      .offeringItems[customerAt(t, key(3)).tenantId]!.find((i) => i.usage_name === 'workstations')!;
    await consoleEdit(t.sim, 'quota', { tenant_id: customerAt(t, key(3)).tenantId, name: workstations.name, value: 7 });
    t.sim.resetStats();
    const report = await sweep(t, STANDARD_PROFILE, { overlapMs: 0 });
    expect(report.findings.map((f) => f.customerId)).toEqual([key(1), key(2)]);
    expect(kindsOf(report.findings)[key(1)]).toContain('tenant-disabled');
    expect(kindsOf(report.findings)[key(2)]).not.toContain('admin-not-activated');
    // Listing: the changed tenants, the changed users, and the tenant of the changed admin by id.
    expect(callsByEndpoint()).toEqual({
      'GET /tenants': 2,
      'GET /users': 3,
      'GET /tenants/{tenant_id}/offering_items': 2,
      'GET /tenants/{tenant_id}/usages': 2,
    });
    expect(report.listingPages).toBe(3);
    expect(report.calls - report.listingPages).toBe(6);
  });

  it('does not see a quota edited in the console (no updated_at moves); a full sweep does', async () => {
    const quiet = await sweep(t, STANDARD_PROFILE, { overlapMs: 0 });
    expect(quiet.findings).toEqual([]);
    const full = await sweep(t, STANDARD_PROFILE, { full: true });
    expect(kindsOf(full.findings)[key(3)]).toContain('quota');
  });

  it('a tenant deleted between the listing and its read: the others are compared, it is read again next time', async () => {
    const deps = await reconcileDeps(t.pipeline, STANDARD_PROFILE);
    const doomed = customerAt(t, key(4)).tenantId;
    await consoleEdit(t.sim, 'tenant', { tenant_id: doomed, enabled: false });
    const cursor = await deps.drifts.cursor();
    // The console deletes it just after the listing showed it changed.
    const listTenantsPage: typeof deps.acronis.listTenantsPage = async (query) => {
      const page = await t.pipeline.acronis.listTenantsPage(query);
      await consoleEdit(t.sim, 'tenant', { tenant_id: doomed, deleted: true });
      return page;
    };
    const report = await runSweep({ ...deps, acronis: { ...t.pipeline.acronis, listTenantsPage } }, { overlapMs: 0 });
    expect(report.unread.map((u) => u.customerId)).toEqual([key(4)]);
    expect(await deps.drifts.cursor()).toBe(cursor);
    const next = await sweep(t, STANDARD_PROFILE, { overlapMs: 0 });
    expect(kindsOf(next.findings)[key(4)]).toEqual(['tenant-missing']);
  });
});
