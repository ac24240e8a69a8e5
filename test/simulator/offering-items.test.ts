/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorApi, startTestSimulator, type RunningSimulator, type SimulatorApi } from '../helpers/simulator.js';

let sim: RunningSimulator;
let api: SimulatorApi;
let partnerId: string;
let backup: string;
/** Two regular storages (the `storages: 2` world), and the disaster-recovery one. */
let infraA: string;
let infraB: string;
let infraDr: string;

beforeAll(async () => {
  sim = await startTestSimulator({ validateResponses: true, storages: 2 });
  api = simulatorApi(sim);
  partnerId = sim.seed.partnerTenantId;
  backup = sim.seed.backupApplicationId;
  [infraA, infraB] = sim.seed.infras.filter((i) => i.capabilities.includes('backup')).map((i) => i.id) as [
    string,
    string,
  ];
  infraDr = sim.seed.infras.find((i) => i.capabilities.includes('disaster_recovery'))!.id;
});
afterAll(async () => {
  expect(sim.stats().responseViolations).toEqual([]);
  await sim.close();
});

async function customer(parentId = partnerId, kind = 'customer') {
  const res = await api.post('/tenants', { name: `Items ${randomUUID().slice(0, 8)}`, parent_id: parentId, kind });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
}

const item = (name: string, extra: Record<string, unknown> = {}) => ({
  application_id: backup,
  name,
  status: 1,
  ...extra,
});
const putItems = (tenantId: string, items: unknown[]) =>
  api.put(`/tenants/${tenantId}/offering_items`, { offering_items: items });
const names = (items: any[]) => items.map((i) => i.name);

describe('GET /tenants/{id}/offering_items', () => {
  it('defaults to edition standard plus editionless items; * shows all editions', async () => {
    const byDefault = (await api.get(`/tenants/${partnerId}/offering_items`)).body.items;
    expect(new Set(byDefault.map((i: any) => i.edition))).toEqual(new Set(['standard', null]));
    expect(names(byDefault)).toContain('local_storage');
    expect(names(byDefault)).not.toContain('pw_base_workstations');

    const workload = (await api.get(`/tenants/${partnerId}/offering_items?edition=pck_per_workload`)).body.items;
    expect(names(workload)).toEqual(
      expect.arrayContaining([
        'pw_base_workstations',
        'pw_base_servers',
        'pw_base_vms',
        'pw_base_m365_seats',
        'local_storage',
      ]),
    );
    expect(
      workload
        .filter((i: any) => i.name === 'pw_base_storage')
        .map((i: any) => i.infra_id)
        .sort(),
    ).toEqual([infraA, infraB].sort());

    const all = (await api.get(`/tenants/${partnerId}/offering_items?edition=*`)).body;
    expect(new Set(all.items.map((i: any) => i.edition))).toEqual(
      new Set(['standard', 'pck_per_workload', 'pck_per_gigabyte', null]),
    );
    expect(all.timestamp).toBeTypeOf('string');
    const storage = all.items.find((i: any) => i.name === 'pw_base_storage');
    expect(storage).toMatchObject({ usage_name: 'storage', type: 'infra', measurement_unit: 'bytes', status: 1 });
    // Offering item timestamps have no zone (docs/acronis-api.md §9.5).
    expect(storage.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);
  });

  it('filters by usage_names, status and type, and rejects an unknown edition', async () => {
    const res = await api.get(
      `/tenants/${partnerId}/offering_items?edition=*&usage_names=storage,workstations&type=infra&status=1`,
    );
    expect(new Set(res.body.items.map((i: any) => i.usage_name))).toEqual(new Set(['storage']));
    expect((await api.get(`/tenants/${partnerId}/offering_items?edition=pck_per_gigabite`)).status).toBe(400);
  });

  it('pages with limit and after', async () => {
    const first = await api.get(`/tenants/${partnerId}/offering_items?edition=*&limit=5`);
    expect(first.body.items).toHaveLength(5);
    const collected = [...first.body.items];
    let after = first.body.paging.cursors.after;
    while (after) {
      const next = await api.get(`/tenants/${partnerId}/offering_items?after=${encodeURIComponent(after)}`);
      collected.push(...next.body.items);
      after = next.body.paging.cursors.after;
    }
    const all = (await api.get(`/tenants/${partnerId}/offering_items?edition=*`)).body.items;
    const key = (i: any) => `${i.name}|${i.infra_id ?? ''}`;
    expect(collected.map(key)).toEqual(all.map(key));
    expect(collected.length).toBeGreaterThan(5);
  });

  it('shows a new customer the parent’s items, disabled and without quota', async () => {
    const id = await customer();
    const items = (await api.get(`/tenants/${id}/offering_items?edition=*`)).body.items;
    expect(items.length).toBeGreaterThan(10);
    for (const i of items) {
      expect(i.status).toBe(0);
      expect(i).not.toHaveProperty('quota');
      expect(i.tenant_id).toBe(id);
    }
  });
});

describe('GET …/available_for_child', () => {
  it('lists what a child may get, edition standard by default; an unknown edition is a 400', async () => {
    const standard = (await api.get(`/tenants/${partnerId}/offering_items/available_for_child?kind=customer`)).body
      .items;
    expect(new Set(standard.map((i: any) => i.edition))).toEqual(new Set(['standard', null]));
    const workload = (
      await api.get(`/tenants/${partnerId}/offering_items/available_for_child?kind=customer&edition=pck_per_workload`)
    ).body.items;
    expect(names(workload)).toContain('pw_base_workstations');
    expect(names(workload)).not.toContain('pg_base_workstations');
    expect(
      (await api.get(`/tenants/${partnerId}/offering_items/available_for_child?kind=customer&edition=nope`)).status,
    ).toBe(400);
    expect((await api.get(`/tenants/${partnerId}/offering_items/available_for_child?kind=unit`)).status).toBe(400);
  });
});

describe('PUT /tenants/{id}/offering_items', () => {
  it('needs `offering_items`: the GET shape `items` is refused', async () => {
    const id = await customer();
    const res = await api.put(`/tenants/${id}/offering_items`, { items: [item('pw_base_workstations')] });
    expect(res.status).toBe(400);
    expect(res.body.error.details.info).toContain("must have required property 'offering_items'");
    expect(res.body.error.details.info).toContain("must NOT have additional property 'items'");
  });

  it('enables the listed items only, accepting whole GET objects sent back', async () => {
    const id = await customer();
    const available = (
      await api.get(`/tenants/${partnerId}/offering_items/available_for_child?kind=customer&edition=pck_per_workload`)
    ).body.items;
    const chosen = available.filter(
      (i: any) =>
        ['pw_base_workstations', 'pw_base_servers'].includes(i.name) ||
        (i.name === 'pw_base_storage' && i.infra_id === infraA),
    );
    const res = await putItems(id, chosen);
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.every((i: any) => i.status === 1 && i.tenant_id === id)).toBe(true);
    const enabled = (await api.get(`/tenants/${id}/offering_items?edition=*&status=1`)).body.items;
    expect(names(enabled).sort()).toEqual(['pw_base_servers', 'pw_base_storage', 'pw_base_workstations']);
    // Enabling items turns their application on (docs/acronis-api.md §4.1).
    expect((await api.get(`/tenants/${id}/applications`)).body.items).toContain(backup);
    // A second PUT with one item leaves the others alone.
    await putItems(id, [item('pw_base_servers', { status: 0 })]);
    const after = (await api.get(`/tenants/${id}/offering_items?edition=*&status=1`)).body.items;
    expect(names(after).sort()).toEqual(['pw_base_storage', 'pw_base_workstations']);
    expect((await api.get(`/tenants/${id}/infra`)).body.infras.sort()).toEqual([infraA, infraB, infraDr].sort());
    expect((await api.get(`/tenants/${id}/usages`)).body.items.map((u: any) => u.name).sort()).toEqual([
      'pw_base_storage',
      'pw_base_workstations',
    ]);
  });

  it('lets a customer enable only one storage: 400 code 1015', async () => {
    const id = await customer();
    const res = await putItems(id, [
      item('pw_base_storage', { infra_id: infraA }),
      item('pw_base_storage', { infra_id: infraB }),
    ]);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 1015, message: 'Infrastructure component conflict' });
    expect((await putItems(id, [item('pw_base_storage', { infra_id: infraA })])).status).toBe(200);
    expect((await putItems(id, [item('pw_base_storage', { infra_id: infraB })])).body.error.code).toBe(1015);
    // The disaster-recovery storage is a storage too (Acronis's examples filter it out of a new customer's items).
    expect((await putItems(id, [item('pw_base_dr_storage', { infra_id: infraDr })])).body.error.code).toBe(1015);
    // A partner may hold several.
    const partner = await customer(partnerId, 'partner');
    expect(
      (
        await putItems(partner, [
          item('pw_base_storage', { infra_id: infraA }),
          item('pw_base_storage', { infra_id: infraB }),
        ])
      ).status,
    ).toBe(200);
  });

  it('refuses a dependent item without the one it needs: 400 code 1023, enabling or disabling', async () => {
    const id = await customer();
    const alone = await putItems(id, [item('pw_base_m365_mailboxes')]);
    expect(alone.status).toBe(400);
    expect(alone.body.error).toMatchObject({
      code: 1023,
      message: 'Offering items dependency error',
      context: { name: 'pw_base_m365_mailboxes', requires: 'pw_base_m365_seats' },
    });
    expect((await api.get(`/tenants/${id}/offering_items?edition=*&status=1`)).body.items).toEqual([]);
    // Both in one PUT, in either order, is fine; then the seats cannot go while the mailboxes stay.
    expect((await putItems(id, [item('pw_base_m365_mailboxes'), item('pw_base_m365_seats')])).status).toBe(200);
    const seatsOff = await putItems(id, [item('pw_base_m365_seats', { status: 0 })]);
    expect(seatsOff.status).toBe(400);
    expect(seatsOff.body.error.code).toBe(1023);
    const bothOff = await putItems(id, [
      item('pw_base_m365_seats', { status: 0 }),
      item('pw_base_m365_mailboxes', { status: 0 }),
    ]);
    expect(bothOff.status).toBe(200);
    // The rule holds for partners too.
    const reseller = await customer(partnerId, 'partner');
    expect((await putItems(reseller, [item('pg_base_m365_mailboxes')])).body.error.code).toBe(1023);
  });

  it('lets a customer have only one Cyber Protection edition: 400 code 1027', async () => {
    const id = await customer();
    expect((await putItems(id, [item('pg_base_workstations')])).status).toBe(200);
    const res = await putItems(id, [item('pw_base_workstations')]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(1027);
    // Switching in one PUT (old off, new on) is fine; editionless items never conflict.
    expect(
      (
        await putItems(id, [
          item('pg_base_workstations', { status: 0 }),
          item('pw_base_workstations'),
          item('local_storage'),
        ])
      ).status,
    ).toBe(200);
  });

  it('refuses what the parent lacks: 400 code 1021; unknown items too', async () => {
    const reseller = await customer(partnerId, 'partner');
    const child = await customer(reseller);
    const res = await putItems(child, [item('pw_base_workstations')]);
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: 1021, message: 'Offering item is not available' });
    await putItems(reseller, [item('pw_base_workstations')]);
    expect((await putItems(child, [item('pw_base_workstations')])).status).toBe(200);
    expect((await putItems(child, [item('no_such_item')])).body.error.code).toBe(1021);
    expect((await putItems(child, [item('pw_base_storage')])).status).toBe(400);
  });

  it('versions quotas: null value → version 0, else a ms timestamp; a stale version is 409 code 1001', async () => {
    const id = await customer();
    const unlimited = await putItems(id, [item('pw_base_vms', { quota: { value: null, overage: 5, version: 0 } })]);
    expect(unlimited.body.items[0].quota).toEqual({ value: null, overage: null, version: 0 });
    const before = Date.now();
    const set = await putItems(id, [item('pw_base_vms', { quota: { value: 10, overage: 2, version: 0 } })]);
    const quota = set.body.items[0].quota;
    expect(quota).toMatchObject({ value: 10, overage: 2 });
    expect(quota.version).toBeGreaterThanOrEqual(before);
    const updated = await putItems(id, [
      item('pw_base_vms', { quota: { value: 20, overage: 2, version: quota.version } }),
    ]);
    expect(updated.body.items[0].quota.version).toBeGreaterThan(quota.version);
    const stale = await putItems(id, [
      item('pw_base_vms', { quota: { value: 30, overage: 2, version: quota.version } }),
    ]);
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe(1001);
    expect((await putItems(id, [item('pw_base_vms', { quota: { value: 30 } })])).status).toBe(400);
    // Disabled items have no quota.
    const off = await putItems(id, [item('pw_base_vms', { status: 0 })]);
    expect(off.body.items[0]).not.toHaveProperty('quota');
  });

  it('is all or nothing: one bad item changes nothing', async () => {
    const id = await customer();
    await putItems(id, [
      item('pw_base_workstations'),
      item('pw_base_storage', { infra_id: infraA }),
      item('pw_base_storage', { infra_id: infraB }),
    ]);
    expect((await api.get(`/tenants/${id}/offering_items?edition=*&status=1`)).body.items).toEqual([]);
  });
});

describe('the batched reads a reconcile sweep makes', () => {
  it('GET /tenants?subtree_root_id&expand_offering_items: each tenant with the items its own read gives', async () => {
    const id = await customer();
    expect((await putItems(id, [item('pw_base_workstations'), item('pw_base_servers')])).status).toBe(200);
    const listed = (await api.get(`/tenants?subtree_root_id=${partnerId}&expand_offering_items=true&limit=1000`)).body;
    const own = (await api.get(`/tenants/${id}/offering_items?edition=*`)).body.items;
    expect(listed.items.find((t: any) => t.id === id).offering_items).toEqual(own);
    const plain = (await api.get(`/tenants?subtree_root_id=${partnerId}&limit=1000`)).body;
    expect(plain.items.find((t: any) => t.id === id).offering_items).toEqual([]);
  });

  it('GET /tenants/usages?tenants=a,b: each tenant’s usages as its own read gives them', async () => {
    const [a, b] = [await customer(), await customer()];
    for (const id of [a, b]) expect((await putItems(id, [item('pw_base_workstations')])).status).toBe(200);
    const set = await fetch(`${sim.url}/__sim/usage`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: b, name: 'pw_base_workstations', value: 3 }),
    });
    expect(set.status).toBe(204);
    const batch = await api.get(`/tenants/usages?tenants=${a},${b}`);
    expect(batch.status, batch.text).toBe(200);
    expect(batch.body.items.map((e: any) => e.tenant)).toEqual([a, b]);
    for (const [i, id] of [a, b].entries())
      expect(batch.body.items[i].usages).toEqual((await api.get(`/tenants/${id}/usages`)).body.items);
    expect(batch.body.items[1].usages.find((u: any) => u.usage_name === 'workstations').value).toBe(3);
    expect((await api.get('/tenants/usages')).status).toBe(400);
    expect((await api.get('/tenants/usages?tenants=not-a-uuid')).status).toBe(400);
  });
});
