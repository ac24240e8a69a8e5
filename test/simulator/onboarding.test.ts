/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorApi, startTestSimulator, type RunningSimulator, type SimulatorApi } from '../helpers/simulator.js';

let sim: RunningSimulator;
let api: SimulatorApi;

beforeAll(async () => {
  sim = await startTestSimulator({ validateResponses: true });
  api = simulatorApi(sim);
});
afterAll(async () => {
  await sim.close();
});

const NIL = '00000000-0000-0000-0000-000000000000';

/** The onboarding of one customer (docs/architecture.md), step by step, looking before creating. */
async function onboard(customer: {
  externalId: string;
  name: string;
  login: string;
  email: string;
  activation: 'email' | 'password';
}) {
  const me = (await api.get(`/clients/${sim.seed.clientId}`)).body;
  const partnerId = me.tenant_id as string;

  // create-tenant: find by customer_id among the partner's children, else create.
  const children = (await api.get(`/tenants?parent_id=${partnerId}&limit=2`)).body;
  let pageItems = children.items;
  let cursor = children.paging.cursors.after;
  while (cursor) {
    const next = (await api.get(`/tenants?after=${encodeURIComponent(cursor)}`)).body;
    pageItems = pageItems.concat(next.items);
    cursor = next.paging.cursors.after;
  }
  let tenant = pageItems.find((t: any) => t.customer_id === customer.externalId);
  if (!tenant) {
    const created = await api.post('/tenants', {
      name: customer.name,
      parent_id: partnerId,
      kind: 'customer',
      customer_id: customer.externalId,
      language: 'en',
      contact: { email: customer.email, firstname: 'Ada', lastname: 'Lovelace' },
      settings: { enhanced_security: false },
    });
    expect(created.status, created.text).toBe(201);
    tenant = created.body;
  }

  // enable-offering-items: what a customer may get, exactly one storage.
  const available = (
    await api.get(`/tenants/${partnerId}/offering_items/available_for_child?kind=customer&edition=pck_per_workload`)
  ).body.items;
  const storage = available.find((i: any) => i.type === 'infra');
  const wanted = available.filter((i: any) => i.type !== 'infra' || i === storage);
  const put = await api.put(`/tenants/${tenant.id}/offering_items`, {
    offering_items: wanted.map((i: any) => ({
      application_id: i.application_id,
      name: i.name,
      status: 1,
      ...(i.infra_id ? { infra_id: i.infra_id } : {}),
      ...(i.name === 'pw_base_workstations' ? { quota: { value: 50, overage: 5, version: 0 } } : {}),
    })),
  });
  expect(put.status, put.text).toBe(200);

  // set-pricing
  const pricing = (await api.get(`/tenants/${tenant.id}/pricing`)).body;
  if (pricing.mode !== 'production')
    expect(
      (await api.put(`/tenants/${tenant.id}/pricing`, { mode: 'production', version: pricing.version })).status,
    ).toBe(200);

  // create-user
  let user: any;
  const check = await api.get(`/users/check_login?username=${encodeURIComponent(customer.login)}`);
  if (check.status === 204) {
    const created = await api.post('/users', {
      tenant_id: tenant.id,
      login: customer.login,
      contact: { email: customer.email, firstname: 'Ada', lastname: 'Lovelace' },
    });
    expect(created.status, created.text).toBe(200);
    user = created.body;
  } else {
    expect(check.status).toBe(409);
    const ids = (await api.get(`/tenants/${tenant.id}/users`)).body.items;
    for (const id of ids) {
      const candidate = (await api.get(`/users/${id}`)).body;
      if (candidate.login.toLowerCase() === customer.login.toLowerCase()) user = candidate;
    }
  }

  // assign-roles
  const roles = await api.put(`/users/${user.id}/access_policies`, {
    items: [
      {
        id: NIL,
        issuer_id: NIL,
        role_id: 'company_admin',
        tenant_id: tenant.id,
        trustee_id: user.id,
        trustee_type: 'user',
        version: 0,
      },
    ],
  });
  expect(roles.status, roles.text).toBe(200);

  // activate-user
  if (!(await api.get(`/users/${user.id}`)).body.activated) {
    if (customer.activation === 'email')
      expect((await api.post(`/users/${user.id}/send-activation-email`, {})).status).toBe(204);
    else expect((await api.post(`/users/${user.id}/password`, { password: 'Str0ng-Passphrase!' })).status).toBe(204);
  }

  // create-agent-token
  const agent = await api.post(`/tenants/${tenant.id}/registration_tokens`, {
    expires_in: 604800,
    scopes: [`urn:acronis.com:tenant-id:${user.personal_tenant_id}:backup_agent_admin`],
  });
  expect(agent.status, agent.text).toBe(200);

  // read-backs a client makes along the way
  await api.get(`/tenants/${tenant.id}`);
  await api.get(`/tenants/${tenant.id}/offering_items?edition=*`);
  await api.get(`/tenants/${tenant.id}/applications`);
  await api.get(`/tenants/${tenant.id}/usages`);
  await api.get(`/tenants/${tenant.id}/registration_tokens`);
  await api.get(`/search?tenant=${partnerId}&text=${encodeURIComponent(customer.name)}`);
  return { tenant, user, token: agent.body.token as string };
}

describe('an onboarding-like sequence', () => {
  it('runs end to end with every response conforming to the OAS', async () => {
    await api.get('/applications');
    await api.get(`/infra?uuids=${sim.seed.infras.map((i) => i.id).join(',')}`);
    const first = await onboard({
      externalId: 'crm-1',
      name: 'First Customer',
      login: 'first.admin',
      email: 'admin@first.example',
      activation: 'email',
    });
    const second = await onboard({
      externalId: 'crm-2',
      name: 'Second Customer',
      login: 'second.admin',
      email: 'admin@second.example',
      activation: 'password',
    });
    // Re-running an onboarding finds what exists instead of creating it again.
    const again = await onboard({
      externalId: 'crm-1',
      name: 'First Customer',
      login: 'first.admin',
      email: 'admin@first.example',
      activation: 'email',
    });
    expect(again.tenant.id).toBe(first.tenant.id);
    expect(again.user.id).toBe(first.user.id);

    const state = sim.state();
    expect(state.tenants.filter((t) => t.customer_id === 'crm-1')).toHaveLength(1);
    expect(state.users.filter((u) => u.login === 'first.admin')).toHaveLength(1);
    expect(state.users.find((u) => u.id === second.user.id)?.activated).toBe(true);
    expect(state.users.find((u) => u.id === first.user.id)?.activation_email_sent_at).not.toBeNull();
    expect(state.registrationTokens.map((t) => t.token)).toEqual(expect.arrayContaining([first.token, second.token]));
    expect(state.offeringItems[first.tenant.id]!.filter((i) => i.status === 1 && i.type === 'infra')).toHaveLength(1);
    expect(state.pricing[first.tenant.id]).toMatchObject({ mode: 'production' });

    const stats = sim.stats();
    expect(stats.responseViolations).toEqual([]);
    expect(stats.total).toBeGreaterThan(50);
    expect(stats.byEndpoint['POST /tenants']).toEqual({ 201: 2 });
  });
});
