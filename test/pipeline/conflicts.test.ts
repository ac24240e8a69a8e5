import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorApi } from '../helpers/simulator.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'conflicts' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('names and logins owned by someone else', () => {
  it('a login taken in another tenant fails that customer at create-user, naming the login; the others complete; a fixed resubmission completes', async () => {
    const api = simulatorApi(t.sim);
    // Someone else's customer, with the login our customer asks for.
    const other = await api.post('/tenants', {
      name: 'Someone Else',
      parent_id: t.sim.seed.partnerTenantId,
      kind: 'customer',
    });
    expect(other.status).toBe(201);
    expect(
      (
        await api.post('/users', {
          tenant_id: other.body.id,
          login: 'taken.admin',
          contact: { email: 'x@else.example' },
        })
      ).status,
    ).toBe(200);

    const customers = sampleCustomers(4, 'Login');
    customers[1] = { ...customers[1]!, login: 'taken.admin' };
    const { batch } = await t.enqueue(customers);
    const ended = await t.waitForBatch(batch.id);
    expect(ended).toMatchObject({ done: 3, failed: 1 });

    const failed = await t.pipeline.store.getCustomer('Login-2');
    expect(failed).toMatchObject({ state: 'failed', failedStep: 'create-user', errorRetryable: 'false' });
    expect(failed?.error).toContain('"Login-2"');
    expect(failed?.error).toContain('login "taken.admin"');
    expect(failed?.error).toContain('Someone Else');

    // The customer's tenant was made before the failure; the resubmission reuses it.
    const resubmitted = await t.enqueue([{ ...customers[1]!, login: 'login2.admin' }]);
    expect(resubmitted.customers[0]?.outcome).toBe('replaced');
    expect(await t.waitForBatch(resubmitted.batch.id)).toMatchObject({ done: 1, failed: 0 });
    const state = t.sim.state();
    expect(state.tenants.filter((x) => x.customer_id === 'Login-2')).toHaveLength(1);
    expect(state.users.filter((u) => u.login === 'login2.admin')).toHaveLength(1);
    expect(await t.pipeline.store.getBatch(batch.id)).toMatchObject({ failed: 0, moved: 1, done: 3 });
  });

  it('a tenant name owned by another customer fails at create-tenant, naming the owner', async () => {
    const api = simulatorApi(t.sim);
    expect(
      (
        await api.post('/tenants', {
          name: 'Taken Name Ltd',
          parent_id: t.sim.seed.partnerTenantId,
          kind: 'customer',
          customer_id: 'crm-other',
        })
      ).status,
    ).toBe(201);
    const { batch } = await t.enqueue([{ name: 'Taken Name Ltd', email: 'it@taken.example', external_id: 'crm-mine' }]);
    expect(await t.waitForBatch(batch.id)).toMatchObject({ failed: 1 });
    const record = await t.pipeline.store.getCustomer('crm-mine');
    expect(record).toMatchObject({ failedStep: 'create-tenant' });
    expect(record?.error).toContain('name "Taken Name Ltd"');
    expect(record?.error).toContain('customer "crm-other"');
  });

  it('resubmitting: completed → already onboarded, in flight → already queued', async () => {
    const customers = sampleCustomers(2, 'Again');
    const first = await t.enqueue(customers);
    const second = await t.enqueue(customers);
    expect(second.customers.map((c) => c.outcome)).toEqual(['already-queued', 'already-queued']);
    await t.waitForBatch(first.batch.id);
    const third = await t.enqueue(customers);
    expect(third.customers.map((c) => c.outcome)).toEqual(['already-onboarded', 'already-onboarded']);
    expect(third.batch).toMatchObject({ total: 2, skipped: 2, queued: 0 });
    expect(t.sim.state().tenants.filter((x) => x.customer_id?.startsWith('Again-'))).toHaveLength(2);
  });

  it('one enqueue call naming a customer twice is refused before anything is queued (producers report repeats themselves)', async () => {
    const [customer] = sampleCustomers(1, 'Twice');
    const batchesBefore = (await t.pipeline.store.listBatches(1000)).length;
    await expect(t.enqueue([customer!, { ...customer!, name: 'Twice Renamed' }])).rejects.toThrow(
      /Twice-1 appears twice/,
    );
    expect(await t.pipeline.store.getCustomer('Twice-1')).toBeUndefined();
    expect((await t.pipeline.store.listBatches(1000)).length).toBe(batchesBefore);
  });
});
