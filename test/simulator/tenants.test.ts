/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  simulatorApi,
  startTestSimulator,
  walkPages,
  type RunningSimulator,
  type SimulatorApi,
} from '../helpers/simulator.js';

let sim: RunningSimulator;
let api: SimulatorApi;
let partnerId: string;

beforeAll(async () => {
  sim = await startTestSimulator({ validateResponses: true });
  api = simulatorApi(sim);
  partnerId = sim.seed.partnerTenantId;
});
afterAll(async () => {
  expect(sim.stats().responseViolations).toEqual([]);
  await sim.close();
});

const unique = (label: string) => `${label} ${randomUUID().slice(0, 8)}`;

async function createTenant(body: Record<string, unknown>) {
  const res = await api.post('/tenants', { parent_id: partnerId, kind: 'customer', name: unique('Customer'), ...body });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

describe('POST /tenants', () => {
  it('creates a customer (201) in trial with version 1, echoing customer_id and internal_tag', async () => {
    const name = unique('Acme');
    const res = await api.post('/tenants', {
      name,
      parent_id: partnerId,
      kind: 'customer',
      customer_id: 'crm-1',
      internal_tag: 'tag-1',
      contact: { email: 'it@acme.example', firstname: 'Ada' },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      name,
      kind: 'customer',
      parent_id: partnerId,
      version: 1,
      enabled: true,
      customer_id: 'crm-1',
      internal_tag: 'tag-1',
      pricing_mode: 'trial',
      deleted_at: null,
    });
    expect(res.body.contact).toMatchObject({ email: 'it@acme.example', firstname: 'Ada' });
    // Tenant timestamps carry a zone offset (docs/acronis-api.md §9.5).
    expect(res.body.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$/);
    expect((await api.get(`/tenants/${res.body.id}/pricing`)).body.mode).toBe('trial');
  });

  it('creates partners in production', async () => {
    const partner = await createTenant({ kind: 'partner' });
    expect(partner.pricing_mode).toBe('production');
  });

  it('enforces the kind hierarchy', async () => {
    const customer = await createTenant({});
    const folder = await createTenant({ kind: 'folder' });
    expect((await api.post('/tenants', { name: unique('Unit'), parent_id: partnerId, kind: 'unit' })).status).toBe(400);
    expect((await api.post('/tenants', { name: unique('P'), parent_id: customer.id, kind: 'partner' })).status).toBe(
      400,
    );
    expect((await api.post('/tenants', { name: unique('C'), parent_id: customer.id, kind: 'customer' })).status).toBe(
      400,
    );
    expect((await api.post('/tenants', { name: unique('Root'), parent_id: partnerId, kind: 'root' })).status).toBe(400);
    expect((await api.post('/tenants', { name: unique('C'), parent_id: folder.id, kind: 'customer' })).status).toBe(
      201,
    );
    expect((await api.post('/tenants', { name: unique('U'), parent_id: customer.id, kind: 'unit' })).status).toBe(201);
  });

  it('refuses a sibling with the same name in any case: 409 code 1004', async () => {
    const first = await createTenant({});
    const res = await api.post('/tenants', { name: first.name.toUpperCase(), parent_id: partnerId, kind: 'customer' });
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 1004,
      message: 'Tenant name conflict',
      domain: 'PlatformAccountServer',
    });
    // The same name under another parent is fine.
    const folder = await createTenant({ kind: 'folder' });
    expect((await api.post('/tenants', { name: first.name, parent_id: folder.id, kind: 'customer' })).status).toBe(201);
  });

  it('rejects unknown properties with a 400 naming them, and accepts enhanced_security at the top level', async () => {
    const res = await api.post('/tenants', { name: unique('X'), parent_id: partnerId, kind: 'customer', foo: 1 });
    expect(res.status).toBe(400);
    expect(res.body.error.details.info).toContain("must NOT have additional property 'foo'");
    const nested = await api.post('/tenants', {
      name: unique('X'),
      parent_id: partnerId,
      kind: 'customer',
      contact: { email: 'a@b.c', nickname: 'x' },
    });
    expect(nested.body.error.details.info).toContain("'contact' must NOT have additional property 'nickname'");
    const missing = await api.post('/tenants', { parent_id: partnerId, kind: 'customer' });
    expect(missing.body.error.details.info).toContain("must have required property 'name'");
    const top = await createTenant({ enhanced_security: true });
    const inSettings = await createTenant({ settings: { enhanced_security: true } });
    const state = sim.state().tenants;
    expect(state.find((t) => t.id === top.id)?.enhanced_security).toBe(true);
    expect(state.find((t) => t.id === inSettings.id)?.enhanced_security).toBe(true);
  });

  it('answers 415 to a JSON body with a wrong or missing Content-Type', async () => {
    const raw = JSON.stringify({ name: unique('X'), parent_id: partnerId, kind: 'customer' });
    expect((await api.send('POST', '/tenants', { raw, contentType: 'text/plain' })).status).toBe(415);
    expect((await api.send('POST', '/tenants', { raw, contentType: null })).status).toBe(415);
    expect((await api.send('POST', '/tenants', { raw, contentType: 'application/x-www-form-urlencoded' })).status).toBe(
      415,
    );
  });

  it('answers 400 for malformed JSON, 404 for a missing parent and 403 outside the subtree', async () => {
    expect((await api.send('POST', '/tenants', { raw: '{"name":', contentType: 'application/json' })).status).toBe(400);
    expect((await api.post('/tenants', { name: unique('X'), parent_id: randomUUID(), kind: 'customer' })).status).toBe(
      404,
    );
    const root = sim.state().tenants.find((t) => t.kind === 'root') as any;
    expect((await api.post('/tenants', { name: unique('X'), parent_id: root.id, kind: 'customer' })).status).toBe(403);
    expect((await api.get(`/tenants/${root.id}`)).status).toBe(403);
    expect((await api.get(`/tenants/${randomUUID()}`)).status).toBe(404);
  });
});

describe('GET /tenants', () => {
  it('walks cursor pages of a parent with more children than the limit; the last page has no cursor', async () => {
    const folder = await createTenant({ kind: 'folder' });
    const names = Array.from({ length: 7 }, (_, i) => `Paged ${i}`);
    for (const name of names) await api.post('/tenants', { name, parent_id: folder.id, kind: 'customer' });

    const seen: string[] = [];
    let res = await api.get(`/tenants?parent_id=${folder.id}&limit=3`);
    let pages = 1;
    expect(res.body.timestamp).toBeTypeOf('string');
    seen.push(...res.body.items.map((t: any) => t.name));
    while (res.body.paging.cursors.after) {
      // Only the cursor: it encodes the filters.
      res = await api.get(`/tenants?after=${encodeURIComponent(res.body.paging.cursors.after)}&limit=3`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((t: any) => t.name));
      pages++;
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(names);
    expect(res.body.paging.cursors).not.toHaveProperty('after');
  });

  it('without a limit returns everything on one page; a bad cursor is a 400', async () => {
    const res = await api.get(`/tenants?subtree_root_id=${partnerId}`);
    expect(res.status).toBe(200);
    expect(res.body.items[0].id).toBe(partnerId);
    expect(res.body.paging.cursors.after).toBeUndefined();
    expect((await api.get('/tenants?after=not-a-cursor')).status).toBe(400);
  });

  it('makes uuids, parent_id and subtree_root_id mutually exclusive', async () => {
    expect((await api.get(`/tenants?parent_id=${partnerId}&subtree_root_id=${partnerId}`)).status).toBe(400);
    expect((await api.get(`/tenants?uuids=${partnerId}&parent_id=${partnerId}`)).status).toBe(400);
    const byIds = await api.get(`/tenants?uuids=${partnerId}`);
    expect(byIds.body.items.map((t: any) => t.id)).toEqual([partnerId]);
  });

  it('honours lod, with_contacts and updated_since', async () => {
    const tenant = await createTenant({ contact: { email: 'c@x.example' } });
    const stamps = (await api.get(`/tenants?uuids=${tenant.id}&lod=stamps`)).body.items[0];
    expect(stamps).not.toHaveProperty('name');
    const basic = (await api.get(`/tenants?uuids=${tenant.id}&lod=basic`)).body.items[0];
    expect(basic).toMatchObject({ name: tenant.name, kind: 'customer', enabled: true });
    expect(basic).not.toHaveProperty('customer_type');
    const withContacts = (await api.get(`/tenants?uuids=${tenant.id}&with_contacts=true`)).body.items[0];
    expect(withContacts.contacts[0].email).toBe('c@x.example');
    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await api.get(`/tenants?uuids=${tenant.id}&updated_since=${future}`)).body.items).toEqual([]);
  });
});

describe('GET /search and children', () => {
  it('finds tenants by name, customer_id and contact; users by login from 3 characters', async () => {
    const marker = randomUUID().slice(0, 8);
    const tenant = await createTenant({
      name: `Zebra ${marker}`,
      customer_id: `ext-${marker}`,
      contact: { email: `boss-${marker}@zebra.example` },
    });
    const login = `zz${marker}`;
    await api.post('/users', {
      tenant_id: tenant.id,
      login,
      contact: { email: `someone@else.example`, firstname: 'Zed' },
    });
    const byName = await api.get(
      `/search?tenant=${partnerId}&text=${encodeURIComponent(`zebra ${marker}`.toUpperCase())}`,
    );
    expect(byName.body.items).toEqual([
      expect.objectContaining({
        obj_type: 'tenant',
        id: tenant.id,
        kind: 'customer',
        name: tenant.name,
        parent_id: partnerId,
        path: [sim.seed.partnerName],
      }),
    ]);
    expect((await api.get(`/search?tenant=${partnerId}&text=ext-${marker}`)).body.items[0].id).toBe(tenant.id);
    expect((await api.get(`/search?tenant=${partnerId}&text=boss-${marker}`)).body.items[0].id).toBe(tenant.id);
    const user = (await api.get(`/search?tenant=${partnerId}&text=${login}`)).body.items.find(
      (i: any) => i.obj_type === 'user',
    );
    expect(user).toMatchObject({ login, parent_id: tenant.id, first_name: 'Zed' });
    expect((await api.get(`/search?tenant=${partnerId}&text=zz`)).body.items.some((i: any) => i.login === login)).toBe(
      false,
    );
    expect((await api.get(`/search?tenant=${partnerId}&text=e&limit=2`)).body.items).toHaveLength(2);
  });

  it('lists children ids ordered by name by default', async () => {
    const folder = await createTenant({ kind: 'folder' });
    for (const name of ['b', 'C', 'a']) await api.post('/tenants', { name, parent_id: folder.id, kind: 'customer' });
    const ids = (await api.get(`/tenants/${folder.id}/children`)).body.items;
    const names = ids.map((id: string) => sim.state().tenants.find((t) => t.id === id)?.name);
    expect(names).toEqual(['a', 'b', 'C']);
  });

  it('pages children: limit and after, the cursor keeps the order, a child added between pages lands in place', async () => {
    const folder = await createTenant({ kind: 'folder' });
    for (const name of ['g', 'c', 'E', 'a', 'f', 'b', 'd'])
      await api.post('/tenants', { name, parent_id: folder.id, kind: 'customer' });
    const nameOf = (id: string) => sim.state().tenants.find((t) => t.id === id)?.name;
    // Only the cursor after the first page: it encodes the tenant, the order and the limit.
    const walk = async (first: string, between?: () => Promise<unknown>) => {
      const next = (after: string) => `/tenants/${folder.id}/children?after=${after}`;
      const { items, pages } = await walkPages<string>(api, first, next, (page) =>
        page === 1 && between ? between() : Promise.resolve(),
      );
      return { seen: items.map(nameOf), pages };
    };

    expect(await walk(`/tenants/${folder.id}/children?limit=3`)).toEqual({
      seen: ['a', 'b', 'c', 'd', 'E', 'f', 'g'],
      pages: 3,
    });
    const descending = await walk(`/tenants/${folder.id}/children?order=-name&limit=4`, () =>
      api.post('/tenants', { name: 'bb', parent_id: folder.id, kind: 'customer' }),
    );
    expect(descending).toEqual({ seen: ['g', 'f', 'E', 'd', 'c', 'bb', 'b', 'a'], pages: 2 });
    // Without a limit the page holds up to 5000 ids: everything here.
    expect((await api.get(`/tenants/${folder.id}/children`)).body.paging).toEqual({ cursors: {} });

    const cursor = (await api.get(`/tenants/${folder.id}/children?limit=1`)).body.paging.cursors.after;
    expect((await api.get(`/tenants/${partnerId}/children?after=${encodeURIComponent(cursor)}`)).status).toBe(400);
    expect((await api.get(`/tenants/${folder.id}/children?after=not-a-cursor`)).status).toBe(400);
  });
});
