/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorApi, startTestSimulator, type RunningSimulator, type SimulatorApi } from '../helpers/simulator.js';

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

const newCustomer = async () =>
  (await api.post('/tenants', { name: `C ${randomUUID().slice(0, 8)}`, parent_id: partnerId, kind: 'customer' })).body;

describe('pricing', () => {
  it('switches trial → production once, with the ms-epoch version; never back to trial', async () => {
    const tenant = await newCustomer();
    const trial = (await api.get(`/tenants/${tenant.id}/pricing`)).body;
    expect(trial).toMatchObject({ mode: 'trial', currency: null });
    expect(trial.version).toBeGreaterThan(1_500_000_000_000);
    expect(trial.production_start_date).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/);

    const stale = await api.put(`/tenants/${tenant.id}/pricing`, { mode: 'production', version: trial.version - 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe(1001);

    const production = await api.put(`/tenants/${tenant.id}/pricing`, { mode: 'production', version: trial.version });
    expect(production.status).toBe(200);
    expect(production.body.mode).toBe('production');
    expect(production.body.version).toBeGreaterThan(trial.version);
    expect((await api.get(`/tenants/${tenant.id}`)).body.pricing_mode).toBe('production');

    const back = await api.put(`/tenants/${tenant.id}/pricing`, { mode: 'trial', version: production.body.version });
    expect(back.status).toBe(400);
    expect(back.body.error.code).toBe(1027);
    expect((await api.put(`/tenants/${tenant.id}/pricing`, { mode: 'production' })).status).toBe(400);
  });

  it('takes the GET body back with mode changed, as the official examples switch; unknown fields are still refused', async () => {
    const tenant = await newCustomer();
    const pricing = (await api.get(`/tenants/${tenant.id}/pricing`)).body;
    expect(Object.keys(pricing).sort()).toEqual(['currency', 'mode', 'production_start_date', 'version']);

    const unknown = await api.put(`/tenants/${tenant.id}/pricing`, {
      ...pricing,
      mode: 'production',
      billing: 'monthly',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.details.info).toContain("must NOT have additional property 'billing'");

    // The read-only production_start_date is accepted and ignored: the switch date is now.
    const before = Date.now();
    const switched = await api.put(`/tenants/${tenant.id}/pricing`, { ...pricing, mode: 'production' });
    expect(switched.status, switched.text).toBe(200);
    expect(switched.body.mode).toBe('production');
    expect(Date.parse(`${switched.body.production_start_date}Z`)).toBeGreaterThanOrEqual(
      Math.floor(before / 1000) * 1000,
    );
    // Sending the answer back unchanged is harmless.
    const again = await api.put(`/tenants/${tenant.id}/pricing`, switched.body);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(switched.body);
  });
});

describe('registration tokens', () => {
  it('POST answers 200 with an XXXX-XXXX-XXXX token, an integer id and the numeric legacy tenant id', async () => {
    const tenant = await newCustomer();
    const user = (
      await api.post('/users', {
        tenant_id: tenant.id,
        login: `agent-${randomUUID().slice(0, 8)}`,
        contact: { email: 'a@b.example' },
      })
    ).body;
    const scope = `urn:acronis.com:tenant-id:${user.personal_tenant_id}:backup_agent_admin`;
    const res = await api.post(`/tenants/${tenant.id}/registration_tokens`, { expires_in: 3600, scopes: [scope] });
    expect(res.status, res.text).toBe(200);
    expect(res.body.token).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(Number.isInteger(res.body.id)).toBe(true);
    expect(res.body.tenant_id).toMatch(/^\d+$/);
    expect(res.body).toMatchObject({ tenant_uuid: tenant.id, scopes: [scope] });
    expect(res.body.created_at).toMatch(/Z$/);
    expect(Date.parse(res.body.expires_at) - Date.parse(res.body.created_at)).toBe(3_600_000);
    expect((await api.get(`/tenants/${tenant.id}/registration_tokens`)).body.items.map((t: any) => t.token)).toEqual([
      res.body.token,
    ]);
    expect((await api.delete(`/registration_tokens/${res.body.id}`)).status).toBe(204);
    expect((await api.get(`/tenants/${tenant.id}/registration_tokens`)).body.items).toEqual([]);
  });

  it('accepts the empty-tenant scope form on the personal tenant (PYX)', async () => {
    const tenant = await newCustomer();
    const user = (
      await api.post('/users', {
        tenant_id: tenant.id,
        login: `pyx-${randomUUID().slice(0, 8)}`,
        contact: { email: 'a@b.example' },
      })
    ).body;
    const res = await api.post(`/tenants/${user.personal_tenant_id}/registration_tokens`, {
      expires_in: 600,
      scopes: ['urn:acronis.com:tenant-id::backup_agent_admin'],
    });
    expect(res.status).toBe(200);
  });

  it('refuses lifetimes over a year, missing scopes, foreign tenants in scopes and unknown properties', async () => {
    const tenant = await newCustomer();
    const scope = `urn:acronis.com:tenant-id:${tenant.id}:backup_agent_admin`;
    expect(
      (await api.post(`/tenants/${tenant.id}/registration_tokens`, { expires_in: 366 * 86400, scopes: [scope] }))
        .status,
    ).toBe(400);
    expect((await api.post(`/tenants/${tenant.id}/registration_tokens`, { expires_in: 3600 })).status).toBe(400);
    expect(
      (
        await api.post(`/tenants/${tenant.id}/registration_tokens`, {
          expires_in: 3600,
          scopes: [`urn:acronis.com:tenant-id:${partnerId}:backup_agent_admin`],
        })
      ).status,
    ).toBe(400);
    expect(
      (
        await api.post(`/tenants/${tenant.id}/registration_tokens`, {
          expires_in: 3600,
          scopes: [scope],
          tenant_id: tenant.id,
        })
      ).status,
    ).toBe(400);
  });
});

describe('applications, infra and usages', () => {
  it('lists applications with the documented backup id and the tenant’s enabled ones', async () => {
    const apps = (await api.get('/applications')).body.items;
    expect(apps.find((a: any) => a.type === 'backup')?.id).toBe('6e6d758d-8e74-3ae3-ac84-50eb0dff12eb');
    const tenant = await newCustomer();
    expect((await api.get(`/tenants/${tenant.id}/applications`)).body.items).not.toContain(
      sim.seed.backupApplicationId,
    );
  });

  it('describes the seeded storages: one regular backup storage and a disaster-recovery one elsewhere', async () => {
    const batch = await api.get(`/infra?uuids=${sim.seed.infras.map((i) => i.id).join(',')}`);
    expect(batch.body.items.map((i: any) => i.capabilities)).toEqual([['backup'], ['disaster_recovery']]);
    const [regular, dr] = sim.seed.infras;
    expect(batch.body.items[0]).toMatchObject({
      id: regular!.id,
      name: regular!.name,
      location_id: regular!.locationId,
    });
    expect(dr!.locationId).not.toBe(regular!.locationId);
    expect((await api.get(`/tenants/${partnerId}/infra`)).body.infras.sort()).toEqual(
      sim.seed.infras.map((i) => i.id).sort(),
    );
  });
});
