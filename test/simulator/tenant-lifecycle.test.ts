/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKUP_APPLICATION_ID } from '../../src/simulator/catalogue.js';
import { simulatorApi, startTestSimulator, type RunningSimulator, type SimulatorApi } from '../helpers/simulator.js';

let sim: RunningSimulator;
let api: SimulatorApi;
let partnerId: string;
let storageId: string;

beforeAll(async () => {
  sim = await startTestSimulator({ validateResponses: true });
  api = simulatorApi(sim);
  partnerId = sim.seed.partnerTenantId;
  storageId = sim.seed.infras.find((i) => i.capabilities.includes('backup'))!.id;
});
afterAll(async () => {
  expect(sim.stats().responseViolations).toEqual([]);
  await sim.close();
});

async function customer(): Promise<any> {
  const res = await api.post('/tenants', {
    parent_id: partnerId,
    kind: 'customer',
    name: `Lifecycle ${randomUUID().slice(0, 8)}`,
  });
  expect(res.status, res.text).toBe(201);
  return res.body;
}

async function enable(tenantId: string, names: string[]) {
  const res = await api.put(`/tenants/${tenantId}/offering_items`, {
    offering_items: [
      ...names.map((name) => ({ application_id: BACKUP_APPLICATION_ID, name, status: 1 })),
      { application_id: BACKUP_APPLICATION_ID, name: 'pw_base_storage', infra_id: storageId, status: 1 },
    ],
  });
  expect(res.status, res.text).toBe(200);
}

describe('PUT /tenants/{id}', () => {
  it('disables with the current version, answers the tenant with version + 1, and 409/1001 on a stale one', async () => {
    const tenant = await customer();
    const res = await api.put(`/tenants/${tenant.id}`, { enabled: false, version: tenant.version });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ enabled: false, version: tenant.version + 1 });
    const stale = await api.put(`/tenants/${tenant.id}`, { enabled: true, version: tenant.version });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe(1001);
    expect((await api.get(`/tenants/${tenant.id}`)).body.enabled).toBe(false);
  });

  it('refuses what tenantPut does not allow (additionalProperties:false) and a missing version', async () => {
    const tenant = await customer();
    expect((await api.put(`/tenants/${tenant.id}`, { enabled: false })).status).toBe(400);
    expect((await api.put(`/tenants/${tenant.id}`, { enabled: false, version: 1, mfa: true })).status).toBe(400);
  });

  it('sets customer_id (tenantPut: a nullable string), clears it with null, refuses another type', async () => {
    const tenant = await customer();
    const set = await api.put(`/tenants/${tenant.id}`, { customer_id: 'crm-77', version: tenant.version });
    expect(set.status, set.text).toBe(200);
    expect(set.body).toMatchObject({ customer_id: 'crm-77', version: tenant.version + 1 });
    expect((await api.put(`/tenants/${tenant.id}`, { customer_id: 77, version: tenant.version + 1 })).status).toBe(400);
    const cleared = await api.put(`/tenants/${tenant.id}`, { customer_id: null, version: tenant.version + 1 });
    expect(cleared.status, cleared.text).toBe(200);
    expect((await api.get(`/tenants/${tenant.id}`)).body.customer_id).toBeNull();
  });

  it('changes the contact as a partial update', async () => {
    const tenant = await customer();
    const res = await api.put(`/tenants/${tenant.id}`, {
      contact: { email: 'new@lifecycle.example', phone: '+1 555' },
      version: tenant.version,
    });
    expect(res.status, res.text).toBe(200);
    const read = await api.get(`/tenants/${tenant.id}`);
    expect(read.body.contact).toMatchObject({ email: 'new@lifecycle.example', phone: '+1 555' });
  });
});

describe('DELETE /tenants/{id}?version=', () => {
  it('is refused while the tenant is enabled (400/1006)', async () => {
    const tenant = await customer();
    const res = await api.delete(`/tenants/${tenant.id}?version=${tenant.version}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe(1006);
  });

  it('deletes a disabled tenant: 404 after, gone from listings, shown with allow_deleted', async () => {
    const tenant = await customer();
    const disabled = await api.put(`/tenants/${tenant.id}`, { enabled: false, version: tenant.version });
    expect((await api.delete(`/tenants/${tenant.id}?version=${tenant.version}`)).status).toBe(409);
    const res = await api.delete(`/tenants/${tenant.id}?version=${disabled.body.version}`);
    expect(res.status, res.text).toBe(204);
    expect((await api.get(`/tenants/${tenant.id}`)).status).toBe(404);
    const children = await api.get(`/tenants?parent_id=${partnerId}`);
    expect(children.body.items.map((t: any) => t.id)).not.toContain(tenant.id);
    const withDeleted = await api.get(`/tenants?parent_id=${partnerId}&allow_deleted=true`);
    expect(withDeleted.body.items.map((t: any) => t.id)).toContain(tenant.id);
  });
});

describe('the edition switch', () => {
  it('moves the enabled items to their counterparts in the target edition, quotas kept', async () => {
    const tenant = await customer();
    await enable(tenant.id, ['pw_base_workstations']);
    const quota = await api.put(`/tenants/${tenant.id}/offering_items`, {
      offering_items: [
        {
          application_id: BACKUP_APPLICATION_ID,
          name: 'pw_base_workstations',
          quota: { value: 7, overage: 0, version: 0 },
        },
      ],
    });
    expect(quota.status, quota.text).toBe(200);
    const dry = await api.get(
      `/tenants/${tenant.id}/edition?application_id=${BACKUP_APPLICATION_ID}&target_edition=pck_per_gigabyte`,
    );
    expect(dry.status, dry.text).toBe(200);
    expect(Array.isArray(dry.body.warnings)).toBe(true);
    const res = await api.put(`/tenants/${tenant.id}/edition`, {
      application_id: BACKUP_APPLICATION_ID,
      target_edition: 'pck_per_gigabyte',
    });
    expect(res.status, res.text).toBe(200);
    const on = res.body.items.filter((i: any) => i.status === 1).map((i: any) => i.name);
    expect(on).toEqual(expect.arrayContaining(['pg_base_workstations', 'pg_base_storage']));
    expect(on).not.toContain('pw_base_workstations');
    expect(res.body.items.find((i: any) => i.name === 'pg_base_workstations').quota.value).toBe(7);
  });

  it('answers 400 for an edition the platform does not know', async () => {
    const tenant = await customer();
    const res = await api.put(`/tenants/${tenant.id}/edition`, {
      application_id: BACKUP_APPLICATION_ID,
      target_edition: 'pck_per_gigabite',
    });
    expect(res.status).toBe(400);
  });
});

describe('two-factor status', () => {
  it('reads and sets the tenant MFA status', async () => {
    const tenant = await customer();
    expect((await api.get(`/tenants/${tenant.id}/mfa/status`)).body.mfa_status).toBe('disabled');
    const res = await api.put(`/tenants/${tenant.id}/mfa/status`, { enabled: true });
    expect(res.status, res.text).toBe(200);
    expect(res.body.mfa_status).toBe('enabled');
    expect((await api.get(`/tenants/${tenant.id}`)).body.mfa_status).toBe('enabled');
  });
});

describe('offering items with usage, and a GET answer PUT back', () => {
  it('refuses to turn off an item that has usage, naming it', async () => {
    const tenant = await customer();
    await enable(tenant.id, ['pw_base_servers']);
    const usage = await fetch(`${sim.url}/__sim/usage`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenant.id, name: 'pw_base_servers', value: 2 }),
    });
    expect(usage.status).toBe(204);
    const off = { application_id: BACKUP_APPLICATION_ID, name: 'pw_base_servers', status: 0 };
    const res = await api.put(`/tenants/${tenant.id}/offering_items`, { offering_items: [off], check_usage: true });
    expect(res.status).toBe(400);
    expect(res.body.error.context.name).toBe('pw_base_servers');
    const usages = await api.get(`/tenants/${tenant.id}/usages`);
    expect(usages.body.items.find((u: any) => u.name === 'pw_base_servers').value).toBe(2);
  });

  it("accepts the GET answer's top-level timestamp in the PUT, and still refuses `items`", async () => {
    const tenant = await customer();
    await enable(tenant.id, ['pw_base_vms']);
    const got = await api.get(`/tenants/${tenant.id}/offering_items?edition=*`);
    const { items, ...rest } = got.body;
    const res = await api.put(`/tenants/${tenant.id}/offering_items`, { ...rest, offering_items: items });
    expect(res.status, res.text).toBe(200);
    expect((await api.put(`/tenants/${tenant.id}/offering_items`, got.body)).status).toBe(400);
  });
});
