import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAcronisTimestamp } from '../../src/acronis/timestamps.js';
import { consoleEdit } from '../helpers/reconcile.js';
import {
  simulatorApi,
  startTestSimulator,
  walkPages,
  type RunningSimulator,
  type SimulatorApi,
} from '../helpers/simulator.js';

/**
 * The simulator's console edits and what each moves (docs/simulator.md "Console edits"): a
 * tenant's own fields its `updated_at`, a user's the user's, an item, a quota, a role or a usage
 * no tenant's nor user's, so `updated_since` listings show only the first two.
 */

let sim: RunningSimulator;
let api: SimulatorApi;
let tenantId: string;
let userId: string;

beforeAll(async () => {
  sim = await startTestSimulator({ validateResponses: true });
  api = simulatorApi(sim);
  const partner = sim.seed.partnerTenantId;
  const tenant = await api.post('/tenants', {
    name: 'Console Co',
    parent_id: partner,
    kind: 'customer',
    customer_id: 'con-1',
  });
  tenantId = tenant.body.id;
  const user = await api.post('/users', {
    tenant_id: tenantId,
    login: 'admin@console.example',
    contact: { email: 'admin@console.example' },
  });
  userId = user.body.id;
});
afterAll(async () => sim?.close());

const since = (ms: number) => new Date(ms).toISOString();

/** The latest `updated_at` of the customer's tenant and user: what an edit after it must pass to be listed. */
function lastUpdate(): number {
  const state = sim.state();
  const tenant = state.tenants.find((t) => t.id === tenantId)!;
  const user = state.users.find((u) => u.id === userId)!;
  return Math.max(...[tenant.updated_at, user.updated_at].map((at) => parseAcronisTimestamp(String(at))!.getTime()));
}

async function changedTenants(after: number): Promise<string[]> {
  const query = `subtree_root_id=${sim.seed.partnerTenantId}&updated_since=${encodeURIComponent(since(after))}`;
  const { items } = await walkPages<{ id: string }>(api, `/tenants?${query}`, (after) => `/tenants?after=${after}`);
  return items.map((t) => t.id);
}

async function changedUsers(after: number): Promise<string[]> {
  const query = `subtree_root_tenant_id=${sim.seed.partnerTenantId}&updated_since=${encodeURIComponent(since(after))}`;
  const { items } = await walkPages<{ id: string }>(api, `/users?${query}`, (after) => `/users?after=${after}`);
  return items.map((u) => u.id);
}

describe('console edits', () => {
  it("an item, a quota, a role or a usage moves neither the tenant's nor the user's updated_at", async () => {
    const mark = lastUpdate();
    const items = sim.state().offeringItems[sim.seed.partnerTenantId]!;
    const workstations = items.find((i) => i.usage_name === 'workstations' && i.edition === 'pck_per_workload')!;
    await consoleEdit(sim, 'item', { tenant_id: tenantId, name: workstations.name, status: 1 });
    await consoleEdit(sim, 'quota', { tenant_id: tenantId, name: workstations.name, value: 3 });
    await consoleEdit(sim, 'user', { user_id: userId, roles: ['readonly_admin'] });
    await consoleEdit(sim, 'usage', { tenant_id: tenantId, name: workstations.name, value: 2 });
    expect(await changedTenants(mark)).toEqual([]);
    expect(await changedUsers(mark)).toEqual([]);
    const item = sim.state().offeringItems[tenantId]!.find((i) => i.name === workstations.name)!;
    expect(item).toMatchObject({ status: 1, quota: { value: 3 } });
    expect(sim.state().accessPolicies[userId]!.map((p) => p.role_id)).toEqual(['readonly_admin']);
  });

  it("a tenant's own fields move its updated_at and version; a user's the user's", async () => {
    const mark = lastUpdate();
    const before = sim.state().tenants.find((t) => t.id === tenantId)!.version;
    await consoleEdit(sim, 'tenant', { tenant_id: tenantId, enabled: false, mfa: true, pricing_mode: 'production' });
    await consoleEdit(sim, 'user', { user_id: userId, activated: true });
    expect(await changedTenants(mark)).toEqual([tenantId]);
    expect(await changedUsers(mark)).toEqual([userId]);
    const tenant = sim.state().tenants.find((t) => t.id === tenantId)!;
    expect(tenant).toMatchObject({
      enabled: false,
      mfa_status: 'enabled',
      pricing_mode: 'production',
      version: before + 1,
    });
    const listed = await api.get(`/users?tenant_id=${tenantId}&with_access_policies=true`);
    expect(listed.status).toBe(200);
    expect(listed.body.items[0]).toMatchObject({
      id: userId,
      activated: true,
      access_policies: [{ role_id: 'readonly_admin' }],
    });
  });

  it('answers 404 for an unknown tenant or user and 400 for a bad body', async () => {
    const put = (what: string, body: object) =>
      fetch(`${sim.url}/__sim/${what}`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    expect((await put('tenant', { tenant_id: 'nope', enabled: false })).status).toBe(404);
    expect((await put('user', { user_id: 'nope', activated: true })).status).toBe(404);
    expect((await put('tenant', { tenant_id: tenantId, colour: 'red' })).status).toBe(400);
  });
});
