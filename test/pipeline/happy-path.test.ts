import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;

/** Calls per customer by endpoint, counted at the simulator since its last reset. */
function callsPerCustomer(customers: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(t.sim.stats().byEndpoint).map(([endpoint, byStatus]) => [
      endpoint,
      Object.values(byStatus).reduce((a, b) => a + b, 0) / customers,
    ]),
  );
}

beforeAll(async () => {
  t = await startTestPipeline({ label: 'happy' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('25 customers end to end', () => {
  it('creates each tenant once with the profile items and one storage, an activated admin with the role, and an agent token', async () => {
    t.sim.resetStats();
    const customers = sampleCustomers(25, 'Happy');
    const { batch, customers: queued } = await t.enqueue(customers);
    expect(queued.map((c) => c.outcome)).toEqual(Array(25).fill('queued'));

    const ended = await t.waitForBatch(batch.id);
    expect(ended).toMatchObject({ total: 25, done: 25, failed: 0, queued: 0, running: 0 });

    const state = t.sim.state();
    const onboarded = expectEachOnboardedOnce(state, customers);
    for (const [i, customer] of customers.entries()) {
      const { tenant, user } = onboarded[i]!;
      expect(tenant).toMatchObject({ name: customer.name, kind: 'customer', parent_id: t.sim.seed.partnerTenantId });

      const enabled = state.offeringItems[tenant.id]!.filter((i) => i.status === 1);
      expect(enabled.filter((i) => i.type === 'infra')).toHaveLength(1);
      expect(enabled.map((i) => i.usage_name).sort()).toEqual(['servers', 'storage', 'workstations']);
      expect(enabled.find((i) => i.usage_name === 'workstations')?.quota).toMatchObject({ value: 50, overage: 5 });

      expect(user.activation_email_sent_at).not.toBeNull();
      expect(state.accessPolicies[user.id]?.map((p) => [p.role_id, p.tenant_id])).toEqual([
        ['company_admin', tenant.id],
      ]);
      expect(
        state.registrationTokens.filter(
          (r) =>
            r.tenant_uuid === tenant.id || (r.scopes as string[]).some((s) => s.includes(user.personal_tenant_id!)),
        ),
      ).toHaveLength(1);
      expect(state.pricing[tenant.id]).toMatchObject({ mode: 'trial' });
    }

    const record = await t.pipeline.store.getCustomer('Happy-1');
    expect(record).toMatchObject({
      state: 'done',
      facts: { activation: 'email-sent', login: 'admin1@happy-customer.example' },
    });
    expect(record?.facts.tokenSealed).toBeTruthy();
    expect(record?.facts.tokenExpiresAt).toBeTruthy();

    // The figure the closing note quotes: API calls per customer on the happy path, counted at the simulator.
    const stats = t.sim.stats();
    expect(stats.responseViolations).toEqual([]);
    const perCustomer = callsPerCustomer(25);
    // Also docs/pipeline.md's figure: six calls per customer, one of each write, and nothing else.
    expect(perCustomer).toEqual({
      'POST /tenants': 1,
      'PUT /tenants/{tenant_id}/offering_items': 1,
      'POST /users': 1,
      'PUT /users/{user_id}/access_policies': 1,
      'POST /users/{user_id}/send-activation-email': 1,
      'POST /tenants/{tenant_id}/registration_tokens': 1,
    });
    expect(stats.byEndpoint['POST /tenants']).toEqual({ 201: 25 });
    expect(stats.byEndpoint['POST /users']).toEqual({ 200: 25 });
    // available_for_child was fetched once, by the workers' start-up profile check, and the
    // cached answer served all 25 customers: not one call per customer.
    expect(stats.byEndpoint['GET /tenants/{tenant_id}/offering_items/available_for_child']).toBeUndefined();
  });

  it('password activation costs the same six calls; production pricing two more (GET and PUT pricing)', async () => {
    const writes = {
      'POST /tenants': 1,
      'PUT /tenants/{tenant_id}/offering_items': 1,
      'POST /users': 1,
      'PUT /users/{user_id}/access_policies': 1,
      'POST /tenants/{tenant_id}/registration_tokens': 1,
    };
    t.sim.resetStats();
    const password = await t.enqueue(sampleCustomers(5, 'HappyPassword'), {
      profile: { ...STANDARD_PROFILE, activation: 'password' },
    });
    expect(await t.waitForBatch(password.batch.id)).toMatchObject({ done: 5, failed: 0 });
    expect(callsPerCustomer(5)).toEqual({ ...writes, 'POST /users/{user_id}/password': 1 });

    t.sim.resetStats();
    const production = await t.enqueue(sampleCustomers(5, 'HappyProduction'), {
      profile: { ...STANDARD_PROFILE, pricing_mode: 'production' },
    });
    expect(await t.waitForBatch(production.batch.id)).toMatchObject({ done: 5, failed: 0 });
    expect(callsPerCustomer(5)).toEqual({
      ...writes,
      'POST /users/{user_id}/send-activation-email': 1,
      'GET /tenants/{tenant_id}/pricing': 1,
      'PUT /tenants/{tenant_id}/pricing': 1,
    });
  });

  it('a re-import of the same customers onboards nobody twice', async () => {
    const { customers } = await t.enqueue(sampleCustomers(3, 'Happy'));
    expect(customers.map((c) => c.outcome)).toEqual(['already-onboarded', 'already-onboarded', 'already-onboarded']);
    expect(t.sim.state().tenants.filter((x) => x.customer_id === 'Happy-1')).toHaveLength(1);
    expect(STANDARD_PROFILE.activation).toBe('email');
  });
});
