/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  simulatorApi,
  startTestSimulator,
  walkPages,
  type RunningSimulator,
  type SimulatorApi,
} from '../helpers/simulator.js';

/**
 * The seeded world and its options: the default is the sandbox Acronis's own examples expect
 * (one regular storage beside a disaster-recovery one they filter out), `storages` gives
 * several regular storages, `customers` a partner that already has that many customers.
 */

const opened: RunningSimulator[] = [];
async function world(options: Parameters<typeof startTestSimulator>[0] = {}) {
  const sim = await startTestSimulator({ validateResponses: true, ...options });
  opened.push(sim);
  return { sim, api: simulatorApi(sim) };
}
afterAll(async () => {
  for (const sim of opened) {
    expect(sim.stats().responseViolations).toEqual([]);
    await sim.close();
  }
});

/** The id Acronis's customer-creation example drops ("Google DR storage for dev-cloud"). */
const EXAMPLES_DR_STORAGE = 'ba2976d0-c13e-4661-ae60-b4593583fce2';

/** The filter of the official customer-creation example, reproduced: no item on the DR storage. */
const dropDrStorage = (items: any[]) =>
  items
    .filter((oi) => (oi.type === 'infra' && oi.infra_id !== EXAMPLES_DR_STORAGE) || oi.type !== 'infra')
    .filter(
      (oi) =>
        (oi.type === 'feature' && oi.usage_name.startsWith('dr_') && oi.infra_id !== EXAMPLES_DR_STORAGE) ||
        oi.type !== 'feature' ||
        !oi.usage_name.startsWith('dr_'),
    );

describe('the default world', () => {
  let sim: RunningSimulator;
  let api: SimulatorApi;
  beforeAll(async () => ({ sim, api } = await world({ seed: 'seeded-world' })));

  it('holds one regular backup storage and a disaster-recovery storage of another kind, elsewhere', () => {
    expect(sim.seed.infras.map((i) => i.capabilities)).toEqual([['backup'], ['disaster_recovery']]);
    const [regular, dr] = sim.seed.infras;
    expect(dr!.id).toBe(EXAMPLES_DR_STORAGE);
    expect(dr!.locationId).not.toBe(regular!.locationId);
    expect(sim.seed.customers).toBe(0);
    expect(sim.state().tenants.filter((t) => t.parent_id === sim.seed.partnerTenantId)).toEqual([]);
  });

  it('lets the official examples create a partner, then a customer with its items and production pricing', async () => {
    const seeded = sim.seed.partnerTenantId;
    const edition = 'pck_per_gigabyte';
    // create_partner_tenant_and_assign_specific_edition: every item offered, PUT as received.
    const partner = await api.post('/tenants', { name: 'Python Partner X1 v3.0', parent_id: seeded, kind: 'partner' });
    expect(partner.status).toBe(201);
    const forPartner = await api.get(
      `/tenants/${seeded}/offering_items/available_for_child?kind=partner&edition=${edition}`,
    );
    const partnerItems = await api.put(`/tenants/${partner.body.id}/offering_items`, {
      offering_items: forPartner.body.items,
    });
    expect(partnerItems.status, partnerItems.text).toBe(200);

    // create_customer_tenant_and_assign_specific_edition.
    const customer = await api.post('/tenants', {
      name: 'Python Customer X1 v3.0',
      parent_id: partner.body.id,
      kind: 'customer',
    });
    expect(customer.status).toBe(201);
    const id = customer.body.id as string;
    const offered = (
      await api.get(`/tenants/${seeded}/offering_items/available_for_child?kind=customer&edition=${edition}`)
    ).body.items;
    // The one-storage rule is kept: everything offered, DR storage included, is refused.
    const everything = await api.put(`/tenants/${id}/offering_items`, { offering_items: offered });
    expect(everything.body.error?.code).toBe(1015);
    const items = await api.put(`/tenants/${id}/offering_items`, { offering_items: dropDrStorage(offered) });
    expect(items.status, items.text).toBe(200);
    const pricing = await api.get(`/tenants/${id}/pricing`);
    pricing.body.mode = 'production';
    const switched = await api.put(`/tenants/${id}/pricing`, pricing.body);
    expect(switched.status, switched.text).toBe(200);

    const enabled = sim.state().offeringItems[id]!.filter((i) => i.status === 1);
    expect(enabled.filter((i) => i.type === 'infra').map((i) => i.infra_id)).toEqual([sim.seed.infras[0]!.id]);
    expect(sim.state().tenants.find((t) => t.id === id)?.pricing_mode).toBe('production');
  });
});

describe('storages: several regular storages', () => {
  it('seeds N regular storages in N locations beside the DR one, keeping the seed’s credentials', async () => {
    const base = await world({ seed: 'storages-world' });
    const { sim, api } = await world({ seed: 'storages-world', storages: 3 });
    const regular = sim.seed.infras.filter((i) => i.capabilities.includes('backup'));
    expect(regular).toHaveLength(3);
    expect(new Set(sim.seed.infras.map((i) => i.locationId)).size).toBe(4);
    expect(sim.seed.infras.at(-1)!.capabilities).toEqual(['disaster_recovery']);
    expect(regular[0]!.id).toBe(base.sim.seed.infras[0]!.id);
    expect([sim.seed.clientId, sim.seed.clientSecret, sim.seed.partnerTenantId]).toEqual([
      base.sim.seed.clientId,
      base.sim.seed.clientSecret,
      base.sim.seed.partnerTenantId,
    ]);

    const offered = (
      await api.get(
        `/tenants/${sim.seed.partnerTenantId}/offering_items/available_for_child?kind=customer&edition=pck_per_workload`,
      )
    ).body.items.filter((i: any) => i.name === 'pw_base_storage');
    expect(offered.map((i: any) => i.infra_id)).toEqual(regular.map((i) => i.id));
    const customer = (
      await api.post('/tenants', { name: 'Third storage', parent_id: sim.seed.partnerTenantId, kind: 'customer' })
    ).body;
    const third = { application_id: sim.seed.backupApplicationId, name: 'pw_base_storage', infra_id: regular[2]!.id };
    expect((await api.put(`/tenants/${customer.id}/offering_items`, { offering_items: [third] })).status).toBe(200);
  });

  it('refuses a storage count outside 1..20', async () => {
    await expect(startTestSimulator({ storages: 0 })).rejects.toThrow();
    await expect(startTestSimulator({ storages: 21 })).rejects.toThrow();
  });
});

describe('customers: a partner that already has 5,000 customers', () => {
  let sim: RunningSimulator;
  let api: SimulatorApi;
  let partnerId: string;
  beforeAll(async () => {
    ({ sim, api } = await world({ seed: 'large-partner', customers: 5000 }));
    partnerId = sim.seed.partnerTenantId;
  });

  /** Every page of a listing, following only the cursor: the ids and the number of pages. */
  async function walk(first: string, next: (after: string) => string): Promise<{ ids: string[]; pages: number }> {
    const { items, pages } = await walkPages(api, first, next);
    return { ids: items.map((t: any) => (typeof t === 'string' ? t : t.id)), pages };
  }

  it('seeds them as customers made elsewhere: no customer_id, in production, keeping the seed’s credentials', async () => {
    expect(sim.seed.customers).toBe(5000);
    const children = sim.state().tenants.filter((t) => t.parent_id === partnerId);
    expect(children).toHaveLength(5000);
    expect(children[0]).toMatchObject({ name: 'Existing Customer 0001', kind: 'customer', customer_id: null });
    expect(children.every((t) => t.pricing_mode === 'production')).toBe(true);
    const small = await world({ seed: 'large-partner' });
    expect([sim.seed.clientId, sim.seed.partnerTenantId, sim.seed.infras[0]!.id]).toEqual([
      small.sim.seed.clientId,
      small.sim.seed.partnerTenantId,
      small.sim.seed.infras[0]!.id,
    ]);
  });

  it('pages GET /tenants?parent_id= at the documented default of 5,000, and at any smaller limit', async () => {
    const one = await walk(`/tenants?parent_id=${partnerId}&lod=basic`, (after) => `/tenants?after=${after}`);
    expect(one).toMatchObject({ pages: 1 });
    expect(one.ids).toHaveLength(5000);

    const newcomer = await api.post('/tenants', { name: 'Newcomer', parent_id: partnerId, kind: 'customer' });
    const two = await walk(`/tenants?parent_id=${partnerId}&lod=stamps`, (after) => `/tenants?after=${after}`);
    expect(two.pages).toBe(2);
    expect(two.ids).toHaveLength(5001);
    expect(two.ids.at(-1)).toBe(newcomer.body.id);

    const small = await walk(
      `/tenants?parent_id=${partnerId}&lod=stamps&limit=1000`,
      (after) => `/tenants?after=${after}&limit=1000`,
    );
    expect(small.pages).toBe(6);
    expect(small.ids).toEqual(two.ids);
  });

  it('pages GET /tenants/{id}/children the same way', async () => {
    await api.post('/tenants', { name: 'Another newcomer', parent_id: partnerId, kind: 'customer' });
    const count = sim.state().tenants.filter((t) => t.parent_id === partnerId).length;
    expect(count).toBeGreaterThan(5000);
    const children = (first: string) => walk(first, (after) => `/tenants/${partnerId}/children?after=${after}`);
    const all = await children(`/tenants/${partnerId}/children?order=as_is`);
    expect(all.pages).toBe(2);
    expect(new Set(all.ids).size).toBe(count);
    const paged = await children(`/tenants/${partnerId}/children?order=as_is&limit=2000`);
    expect(paged.pages).toBe(3);
    expect(paged.ids).toEqual(all.ids);
  });
});
