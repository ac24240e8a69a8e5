/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorApi, startTestSimulator, type RunningSimulator, type SimulatorApi } from '../helpers/simulator.js';

let sim: RunningSimulator;
let api: SimulatorApi;
let partnerId: string;
let customerId: string;

const NIL = '00000000-0000-0000-0000-000000000000';
const login = (label = 'user') => `${label}-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  sim = await startTestSimulator({ validateResponses: true });
  api = simulatorApi(sim);
  partnerId = sim.seed.partnerTenantId;
  customerId = (await api.post('/tenants', { name: 'Users Inc', parent_id: partnerId, kind: 'customer' })).body.id;
});
afterAll(async () => {
  expect(sim.stats().responseViolations).toEqual([]);
  await sim.close();
});

async function createUser(tenantId = customerId, name = login()) {
  const res = await api.post('/users', {
    tenant_id: tenantId,
    login: name,
    contact: { email: `${name}@example.com`, firstname: 'Jo', lastname: 'Doe' },
  });
  expect(res.status, res.text).toBe(200);
  return res.body;
}

describe('GET /users/check_login', () => {
  it('answers 204 when free, 409 when taken in any case and anywhere, 406 when malformed', async () => {
    const name = login('Check');
    expect((await api.get(`/users/check_login?username=${name}`)).status).toBe(204);
    await createUser(customerId, name);
    expect((await api.get(`/users/check_login?username=${name}`)).status).toBe(409);
    expect((await api.get(`/users/check_login?username=${name.toUpperCase()}`)).status).toBe(409);
    expect((await api.get(`/users/check_login?username=${sim.seed.adminLogin}`)).status).toBe(409);
    for (const bad of ['ab', 'has space', 'émile', 'semi;colon']) {
      const res = await api.get(`/users/check_login?username=${encodeURIComponent(bad)}`);
      expect(res.status, bad).toBe(406);
      expect(res.body.error.code).toBe(406);
    }
    expect(
      (await api.get(`/users/check_login?username=${encodeURIComponent('first.last+tag@example.com')}`)).status,
    ).toBe(204);
  });
});

describe('POST /users', () => {
  it('answers 200 (not 201) with a not-activated user and a personal unit tenant owned by the user', async () => {
    const user = await createUser();
    expect(user).toMatchObject({ tenant_id: customerId, activated: false, enabled: true, version: 1, language: 'en' });
    const personal = sim.state().tenants.find((t) => t.id === user.personal_tenant_id) as any;
    expect(personal).toMatchObject({ kind: 'unit', owner_id: user.id, parent_id: customerId });
    expect((await api.get(`/users/${user.id}`)).body.login).toBe(user.login);
    expect((await api.get(`/tenants/${customerId}/users`)).body.items).toContain(user.id);
  });

  it('gives partner users no personal tenant', async () => {
    expect((await createUser(partnerId)).personal_tenant_id).toBeNull();
  });

  it('refuses a taken login (409), a bad login (400 code 1033), unknown properties and a missing e-mail (400)', async () => {
    const user = await createUser();
    const taken = await api.post('/users', {
      tenant_id: customerId,
      login: user.login.toUpperCase(),
      contact: { email: 'x@y.z' },
    });
    expect(taken.status).toBe(409);
    const bad = await api.post('/users', {
      tenant_id: customerId,
      login: 'no spaces allowed',
      contact: { email: 'x@y.z' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe(1033);
    const extra = await api.post('/users', {
      tenant_id: customerId,
      login: login(),
      contact: { email: 'x@y.z' },
      role: 'admin',
    });
    expect(extra.body.error.details.info).toContain("must NOT have additional property 'role'");
    const noMail = await api.post('/users', { tenant_id: customerId, login: login(), contact: { firstname: 'x' } });
    expect(noMail.body.error.details.info).toContain("must have required property 'email'");
  });
});

describe('access policies', () => {
  const policy = (user: any, extra: Record<string, unknown> = {}) => ({
    id: NIL,
    issuer_id: NIL,
    role_id: 'company_admin',
    tenant_id: customerId,
    trustee_id: user.id,
    trustee_type: 'user',
    version: 0,
    ...extra,
  });

  it('PUT replaces the whole set; {"items":[]} clears it', async () => {
    const user = await createUser();
    const res = await api.put(`/users/${user.id}/access_policies`, {
      items: [policy(user), policy(user, { role_id: 'backup_user', tenant_id: user.personal_tenant_id })],
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.items.map((p: any) => p.role_id).sort()).toEqual(['backup_user', 'company_admin']);
    expect(res.body.items[0].id).not.toBe(NIL);
    await api.put(`/users/${user.id}/access_policies`, { items: [policy(user)] });
    expect(sim.state().accessPolicies[user.id]!.map((p: any) => p.role_id)).toEqual(['company_admin']);
    await api.put(`/users/${user.id}/access_policies`, { items: [] });
    expect(sim.state().accessPolicies[user.id]).toEqual([]);
  });

  it('GET answers the roles the PUT set, in the OAS list shape (adopt reads an admin back so)', async () => {
    const user = await createUser();
    expect((await api.get(`/users/${user.id}/access_policies`)).body.items).toEqual([]);
    await api.put(`/users/${user.id}/access_policies`, { items: [policy(user)] });
    const res = await api.get(`/users/${user.id}/access_policies`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.items).toMatchObject([{ role_id: 'company_admin', tenant_id: customerId, trustee_id: user.id }]);
    expect((await api.get(`/users/${randomUUID()}/access_policies`)).status).toBe(404);
  });

  it('enforces the documented values of each item', async () => {
    const user = await createUser();
    const cases: Record<string, unknown>[] = [
      { id: randomUUID() },
      { issuer_id: randomUUID() },
      { version: 1 },
      { trustee_type: 'client' },
      { trustee_id: randomUUID() },
      { tenant_id: partnerId },
      { role_id: 'super_admin' },
    ];
    for (const extra of cases) {
      const res = await api.put(`/users/${user.id}/access_policies`, { items: [policy(user, extra)] });
      expect(res.status, JSON.stringify(extra)).toBe(400);
    }
  });
});

describe('activation', () => {
  it('send-activation-email answers 204 and records the mail; the user stays not activated', async () => {
    const user = await createUser();
    const res = await api.post(`/users/${user.id}/send-activation-email`, {});
    expect(res.status).toBe(204);
    const stored = sim.state().users.find((u) => u.id === user.id) as any;
    expect(stored.activation_email_sent_at).not.toBeNull();
    expect(stored.activated).toBe(false);
    expect((await api.send('POST', `/users/${user.id}/send-activation-email`)).status).toBe(204);
    expect(sim.state().users.find((u) => u.id === user.id)?.activation_emails_sent).toBe(2);
  });

  it('POST /users/{id}/password activates a sub-tenant user when an API client asks', async () => {
    const user = await createUser();
    expect((await api.post(`/users/${user.id}/password`, { password: 'Correct-Horse-9' })).status).toBe(204);
    expect((await api.get(`/users/${user.id}`)).body.activated).toBe(true);
    expect(sim.state().users.find((u) => u.id === user.id)).toMatchObject({
      passwords_set: 1,
      activation_emails_sent: 0,
    });
    // The new password works for Basic auth.
    const me = await api.get('/users/me', { authorization: api.basic(user.login, 'Correct-Horse-9') });
    expect(me.body).toMatchObject({ id: user.id, tenant_kind: 'customer' });
  });

  it('refuses users of the caller’s own tenant and callers that are not API clients (403), and weak passwords (400)', async () => {
    const partnerUser = await createUser(partnerId);
    expect((await api.post(`/users/${partnerUser.id}/password`, { password: 'Correct-Horse-9' })).status).toBe(403);
    const user = await createUser();
    const asAdmin = await api.post(
      `/users/${user.id}/password`,
      { password: 'Correct-Horse-9' },
      { authorization: api.basic(sim.seed.adminLogin, sim.seed.adminPassword) },
    );
    expect(asAdmin.status).toBe(403);
    for (const weak of ['short1', 'password', 'abcdefghij', '1234567890']) {
      expect((await api.post(`/users/${user.id}/password`, { password: weak })).status, weak).toBe(400);
    }
    expect((await api.post(`/users/${user.id}/password`, { password: 'Correct-Horse-9', hint: 'x' })).status).toBe(400);
    expect((await api.get(`/users/${user.id}`)).body.activated).toBe(false);
  });
});

describe('PUT /users/{id}', () => {
  it('updates with the current version (answered with version + 1); a stale version is 409 code 1001', async () => {
    const user = await createUser();
    const res = await api.put(`/users/${user.id}`, { version: user.version, contact: { phone: '+1 555 0100' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ version: user.version + 1, contact: { phone: '+1 555 0100', firstname: 'Jo' } });
    const stale = await api.put(`/users/${user.id}`, { version: user.version, contact: { lastname: 'Roe' } });
    expect(stale.status).toBe(409);
    expect(stale.body.error.code).toBe(1001);
    expect((await api.get(`/users/${user.id}`)).body.contact.lastname).toBe('Doe');
  });

  it('refuses what userPut does not allow: read-only fields, a missing version, another user in the contact', async () => {
    const user = await createUser();
    for (const body of [
      { version: user.version, tenant_id: partnerId },
      { version: user.version, activated: true },
      { contact: { firstname: 'No version' } },
      { version: user.version, contact: { nickname: 'x' } },
      { version: user.version, contact: { user_id: (await createUser()).id } },
    ]) {
      expect((await api.put(`/users/${user.id}`, body)).status, JSON.stringify(body)).toBe(400);
    }
    expect((await api.get(`/users/${user.id}`)).body.version).toBe(user.version);
  });

  it('a new login is checked as on POST: taken anywhere is 409', async () => {
    const user = await createUser();
    const taken = await api.put(`/users/${user.id}`, { version: user.version, login: sim.seed.adminLogin });
    expect(taken.status).toBe(409);
  });

  it("changes a not-activated user's e-mail at once; an activated user's waits for the link sent to the old address", async () => {
    const fresh = await createUser();
    const moved = await api.put(`/users/${fresh.id}`, {
      version: fresh.version,
      contact: { email: 'moved@example.com' },
    });
    expect(moved.body.contact.email).toBe('moved@example.com');

    const user = await createUser();
    expect((await api.post(`/users/${user.id}/password`, { password: 'Correct-Horse-9' })).status).toBe(204);
    const current = (await api.get(`/users/${user.id}`)).body;
    const res = await api.put(`/users/${user.id}`, {
      version: current.version,
      contact: { email: 'later@example.com' },
    });
    expect(res.status).toBe(200);
    expect(res.body.contact.email).toBe(user.contact.email);
    const state = sim.state().users.find((u) => u.id === user.id);
    expect(state).toMatchObject({ pending_email: 'later@example.com', email_change_links_sent: 1 });
  });
});
