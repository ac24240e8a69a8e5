import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE, parseProfile, type Profile } from '../../src/onboarding/profile.js';
import { batchResults } from '../../src/workers/results.js';
import { simulatorApi } from '../helpers/simulator.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'profiles', sim: { storages: 2 } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const profile = (patch: Partial<Profile>): Profile => parseProfile({ ...STANDARD_PROFILE, ...patch }, 'test');
const enabledItems = (tenantId: string) => t.sim.state().offeringItems[tenantId]!.filter((i) => i.status === 1);
const tenantOf = (customerId: string) => t.sim.state().tenants.find((x) => x.customer_id === customerId)!;

describe('profile features', () => {
  it('per-gigabyte edition from the request: pg_base_ items and one storage', async () => {
    const { batch } = await t.enqueue(sampleCustomers(1, 'PerGb', { edition: 'pck_per_gigabyte' }));
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    const items = enabledItems(tenantOf('PerGb-1').id);
    expect(items.map((i) => i.name).sort()).toEqual(['pg_base_servers', 'pg_base_storage', 'pg_base_workstations']);
    expect(items.every((i) => i.edition === 'pck_per_gigabyte')).toBe(true);
  });

  it('storage choice: the one storage is the infra the profile names', async () => {
    const second = t.sim.seed.infras[1]!.id;
    const { batch } = await t.enqueue(sampleCustomers(1, 'Storage'), {
      profile: profile({ storage: { infra_id: second } }),
    });
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    const storage = enabledItems(tenantOf('Storage-1').id).filter((i) => i.type === 'infra');
    expect(storage.map((i) => i.infra_id)).toEqual([second]);
  });

  it('template copy: a new customer gets the enabled items and quotas of the sample customer, all editions', async () => {
    const api = simulatorApi(t.sim);
    const template = await api.post('/tenants', {
      name: 'Sample Customer',
      parent_id: t.sim.seed.partnerTenantId,
      kind: 'customer',
      customer_id: 'sample',
    });
    const app = t.sim.seed.backupApplicationId;
    const put = await api.put(`/tenants/${template.body.id}/offering_items`, {
      offering_items: [
        { application_id: app, name: 'pw_base_vms', status: 1, quota: { value: 3, overage: 1, version: 0 } },
        { application_id: app, name: 'pw_base_m365_seats', status: 1, quota: { value: 25, overage: null, version: 0 } },
        { application_id: app, name: 'pw_base_storage', infra_id: t.sim.seed.infras[1]!.id, status: 1 },
        { application_id: app, name: 'local_storage', status: 1 },
      ],
    });
    expect(put.status, put.text).toBe(200);

    const { batch } = await t.enqueue(sampleCustomers(1, 'Template'), {
      profile: profile({ template_tenant_id: template.body.id }),
    });
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    const describeItems = (tenantId: string) =>
      enabledItems(tenantId)
        .map(
          (i) =>
            `${i.name}${i.infra_id ? `@${i.infra_id}` : ''}=${i.quota?.value ?? 'unlimited'}/${i.quota?.overage ?? '-'}`,
        )
        .sort();
    expect(describeItems(tenantOf('Template-1').id)).toEqual(describeItems(template.body.id));
    expect(describeItems(tenantOf('Template-1').id)).toContain('pw_base_vms=3/1');
  });

  it('password activation: the user is activated with a generated password that works and is kept sealed', async () => {
    const { batch } = await t.enqueue(sampleCustomers(1, 'Password'), { profile: profile({ activation: 'password' }) });
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    const record = await t.pipeline.store.getCustomer('Password-1');
    expect(record).toMatchObject({ facts: { activation: 'password-set' } });
    const [result] = await batchResults(
      { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
      batch.id,
    );
    expect(result!.password.length).toBeGreaterThanOrEqual(16);
    expect(record?.facts.passwordSealed).not.toContain(result!.password);
    const me = await fetch(`${t.sim.url}/api/2/users/me`, {
      headers: { authorization: `Basic ${Buffer.from(`${result!.login}:${result!.password}`).toString('base64')}` },
    });
    expect(me.status).toBe(200);
    expect(t.sim.state().users.find((u) => u.login === result!.login)?.activated).toBe(true);
    expect(result!.registration_token).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(result!.install_linux).toContain(`--token=${result!.registration_token}`);
    expect(result!.install_windows).toContain(result!.registration_token);
  });

  it('a password given in the request is used instead of a generated one', async () => {
    const { batch } = await t.enqueue(
      sampleCustomers(1, 'GivenPw', { activation: 'password', password: 'Given-Passw0rd!x' }),
    );
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    const [result] = await batchResults(
      { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
      batch.id,
    );
    expect(result!.password).toBe('Given-Passw0rd!x');
  });

  it('production pricing when the profile asks for it', async () => {
    const { batch } = await t.enqueue(sampleCustomers(1, 'Prod'), { profile: profile({ pricing_mode: 'production' }) });
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    expect(t.sim.state().pricing[tenantOf('Prod-1').id]).toMatchObject({ mode: 'production' });
  });
});
