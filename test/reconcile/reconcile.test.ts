import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE, type Profile } from '../../src/onboarding/profile.js';
import { BACKUP_APPLICATION_ID } from '../../src/simulator/catalogue.js';
import { askFor, waitForActions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { consoleEdit, customerAt, kindsOf, sweep } from '../helpers/reconcile.js';

/**
 * reconcile finds each kind of drift the simulator's console edits make, in words, and --fix
 * cures what a change and a resent activation can cure (docs/reconcile.md): a second sweep finds
 * only what is left for a person (a disabled tenant, a deleted user or tenant) and the funnel facts.
 */

let t: TestPipeline;
// Two-factor is compared only when the profile names it.
const profile: Profile = { ...STANDARD_PROFILE, mfa: false };
const customers = sampleCustomers(10, 'Rec');
const key = (n: number) => `Rec-${n}`;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'reconcile', sim: { storages: 2 } });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  await t.waitForBatch(batch.id);
});
afterAll(async () => t?.close());

function itemOf(tenantId: string, usageName: string, infraId?: string) {
  return t.sim
    .state()
    .offeringItems[tenantId]!.find(
      (i) => i.usage_name === usageName && (infraId === undefined || i.infra_id === infraId),
    )!;
}

async function makeDrift(): Promise<void> {
  const at = (n: number) => customerAt(t, key(n));
  const workstations = itemOf(at(1).tenantId, 'workstations');
  await consoleEdit(t.sim, 'quota', { tenant_id: at(1).tenantId, name: workstations.name, value: 10, overage: 0 });
  await consoleEdit(t.sim, 'item', {
    tenant_id: at(2).tenantId,
    name: itemOf(at(2).tenantId, 'servers').name,
    status: 0,
  });
  await consoleEdit(t.sim, 'tenant', { tenant_id: at(3).tenantId, enabled: false });
  await consoleEdit(t.sim, 'user', { user_id: at(4).userId, roles: ['readonly_admin'] });
  await consoleEdit(t.sim, 'tenant', { tenant_id: at(5).tenantId, mfa: true });
  const own = itemOf(at(6).tenantId, 'storage');
  const other = t.sim
    .state()
    .offeringItems[t.sim.seed.partnerTenantId]!.find(
      (i) => i.usage_name === 'storage' && i.infra_id !== own.infra_id && i.edition === own.edition,
    )!;
  await consoleEdit(t.sim, 'item', {
    tenant_id: at(6).tenantId,
    name: other.name,
    infra_id: other.infra_id,
    status: 1,
  });
  await consoleEdit(t.sim, 'user', { user_id: at(7).userId, deleted: true });
  await t.pipeline.acronis.switchEdition(at(8).tenantId, {
    application_id: BACKUP_APPLICATION_ID,
    target_edition: 'pck_per_gigabyte',
  });
  await consoleEdit(t.sim, 'tenant', { tenant_id: at(10).tenantId, deleted: true });
  // The last one: an admin who signed in and an agent registered, so nothing is left to say.
  await consoleEdit(t.sim, 'user', { user_id: at(9).userId, activated: true });
  await consoleEdit(t.sim, 'usage', {
    tenant_id: at(9).tenantId,
    name: itemOf(at(9).tenantId, 'workstations').name,
    value: 1,
  });
}

describe('reconcile', () => {
  it('after onboarding, tells only the funnel: admins not activated, no agent yet', async () => {
    const report = await sweep(t, profile, { full: true });
    expect(report.mode).toBe('full');
    expect(report.findings).toHaveLength(10);
    for (const f of report.findings) {
      expect(f.differences.map((d) => d.kind).sort(), f.customerId).toEqual(['admin-not-activated', 'no-agent']);
      expect(f.funnel).toEqual({ created: true, activated: false, agentRegistered: false });
    }
  });

  it('finds each kind of drift a console edit makes, each in words', async () => {
    await makeDrift();
    const report = await sweep(t, profile, { full: true });
    const kinds = kindsOf(report.findings);
    const funnel = ['admin-not-activated', 'no-agent'];
    expect(kinds[key(1)]).toEqual([...funnel, 'quota'].sort());
    expect(kinds[key(2)]).toEqual([...funnel, 'offering-items'].sort());
    expect(kinds[key(3)]).toEqual([...funnel, 'tenant-disabled'].sort());
    expect(kinds[key(4)]).toEqual([...funnel, 'admin-role'].sort());
    expect(kinds[key(5)]).toEqual([...funnel, 'mfa'].sort());
    expect(kinds[key(6)]).toEqual([...funnel, 'storage'].sort());
    expect(kinds[key(7)]).toEqual(['admin-missing', 'no-agent']);
    expect(kinds[key(8)]).toContain('edition');
    expect(kinds[key(9)]).toEqual([]);
    expect(kinds[key(10)]).toEqual(['tenant-missing']);
    const quota = report.findings.find((f) => f.customerId === key(1))!.differences.find((d) => d.kind === 'quota')!;
    expect(quota.text).toMatch(/workstations quota is 10 \(overage 0\); .* say 50 \(overage 5\)/);
    expect(report.findings.find((f) => f.customerId === key(9))!.funnel).toEqual({
      created: true,
      activated: true,
      agentRegistered: true,
    });
  });

  it('--fix queues one change per curable customer and resends activations; a second sweep finds none of those', async () => {
    const report = await sweep(t, profile, { full: true, fix: true });
    const queued = report.fixes.filter((f) => f.queued).map((f) => f.customerId);
    expect(queued.sort()).toEqual([key(1), key(2), key(4), key(5), key(6), key(8)]);
    const disabled = report.fixes.find((f) => f.customerId === key(3))!;
    expect(disabled.queued).toBeUndefined();
    expect(disabled.left.map((l) => l.reason).join()).toMatch(/not resumed by --fix.*resume Rec-3/);
    expect(report.fixes.find((f) => f.customerId === key(7))!.left.map((l) => l.kind)).toContain('admin-missing');
    expect(report.fixes.find((f) => f.customerId === key(10))!.left.map((l) => l.kind)).toEqual(['tenant-missing']);
    expect(report.fixes.filter((f) => f.resent === 'sent')).toHaveLength(7);
    for (const fix of report.fixes.filter((f) => f.queued)) {
      const actions = await waitForActions(t, fix.queued!.batchId);
      expect(
        actions.map((a) => a.state),
        fix.customerId,
      ).toEqual(['done']);
    }
    const after = await sweep(t, profile, { full: true });
    const left = new Set(['admin-not-activated', 'no-agent', 'tenant-disabled', 'admin-missing', 'tenant-missing']);
    for (const f of after.findings)
      expect(
        f.differences.filter((d) => !left.has(d.kind)),
        f.customerId,
      ).toEqual([]);
    // Never resumed, never deleted: the disabled tenant stays disabled, the deleted user stays gone.
    expect(t.sim.state().tenants.find((x) => x.customer_id === key(3))!.enabled).toBe(false);
    expect(t.sim.state().tenants.find((x) => x.customer_id === key(3))!.pricing_mode).toBe('trial');
  });

  it('a profile asking for production finds the trial customers; --fix switches only those it was asked for', async () => {
    const production: Profile = { ...profile, pricing_mode: 'production' };
    const report = await sweep(t, production, { customerIds: [key(9)], fix: true });
    expect(kindsOf(report.findings)[key(9)]).toEqual(['pricing']);
    const fix = report.fixes.find((f) => f.customerId === key(9))!;
    await waitForActions(t, fix.queued!.batchId);
    const tenants = t.sim.state().tenants;
    expect(tenants.find((x) => x.customer_id === key(9))!.pricing_mode).toBe('production');
    expect(tenants.find((x) => x.customer_id === key(1))!.pricing_mode).toBe('trial');
    expect(kindsOf((await sweep(t, production, { customerIds: [key(9)] })).findings)[key(9)]).toEqual([]);
  });

  it('a tenant enabled again by hand after our suspend is told, and --fix leaves it for a person', async () => {
    const { batchId } = await askFor(t, 'suspend', [key(1)]);
    await waitForActions(t, batchId);
    await consoleEdit(t.sim, 'tenant', { tenant_id: customerAt(t, key(1)).tenantId, enabled: true });
    const report = await sweep(t, profile, { customerIds: [key(1)], fix: true });
    expect(kindsOf(report.findings)[key(1)]).toContain('tenant-enabled');
    expect(report.fixes[0]!.left.map((l) => l.reason).join()).toMatch(/suspend Rec-1/);
  });
});
