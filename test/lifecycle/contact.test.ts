import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { parseProfile, STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { askFor, calls, waitForActions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { simulatorApi } from '../helpers/simulator.js';

let t: TestPipeline;
/** Onboarded with an activation e-mail: their admins are not activated, so a new e-mail applies at once. */
const pending = sampleCustomers(3, 'Contact');
/** Onboarded with a password: their admins are activated, so a new e-mail waits for a confirmation link. */
const activated = sampleCustomers(2, 'Activated');
const keys = pending.map(customerKeyOf);
const activatedKeys = activated.map(customerKeyOf);

beforeAll(async () => {
  t = await startTestPipeline({ label: 'contact' });
  await t.startWorkers();
  expect(await t.waitForBatch((await t.enqueue(pending)).batch.id)).toMatchObject({ done: 3 });
  const withPassword = parseProfile({ ...STANDARD_PROFILE, activation: 'password' }, 'test');
  const { batch } = await t.enqueue(activated, { profile: withPassword });
  expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 2 });
});
afterAll(async () => {
  await t?.close();
});

const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;
const adminOf = (key: string) => {
  const user = t.sim.state().users.find((u) => u.tenant_id === tenantOf(key).id)!;
  return { ...user, contact: user.contact as Record<string, unknown> };
};
const PUT_USER = 'PUT /users/{user_id}';

describe('contact', () => {
  it("changes the tenant's contact and the admin user's, each with 1 read + 1 write", async () => {
    const key = keys[0]!;
    t.sim.resetStats();
    const contact = { email: 'new-admin@contact-customer.example', first_name: 'Grace', phone: '+44 20 7946 0000' };
    const [action] = await waitForActions(t, (await askFor(t, 'contact', [key], { contact })).batchId);
    expect(action, action?.error).toMatchObject({
      state: 'done',
      outcome: 'tenant contact email, firstname, phone changed; admin user contact email, firstname, phone changed',
    });
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(1);
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(1);
    expect(calls(t, 'GET /users/{user_id}')).toBe(1);
    expect(calls(t, PUT_USER)).toBe(1);
    const api = simulatorApi(t.sim);
    expect((await api.get(`/tenants/${tenantOf(key).id}`)).body.contact).toMatchObject({
      email: contact.email,
      firstname: 'Grace',
      phone: contact.phone,
    });
    const user = (await api.get(`/users/${adminOf(key).id}`)).body;
    expect(user.contact).toMatchObject({ email: contact.email, firstname: 'Grace', phone: contact.phone });
  });

  it('sends nothing when both contacts are as asked already', async () => {
    const key = keys[0]!;
    t.sim.resetStats();
    const contact = { email: 'new-admin@contact-customer.example', first_name: 'Grace' };
    const [action] = await waitForActions(t, (await askFor(t, 'contact', [key], { contact })).batchId);
    expect(action).toMatchObject({
      state: 'done',
      outcome: 'tenant contact as asked already; admin user contact as asked already',
    });
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
    expect(calls(t, PUT_USER)).toBe(0);
  });

  it("the API commits the user's change and the answer is lost: the re-run reads it changed and sends nothing more", async () => {
    const targets = keys.slice(1);
    t.sim.configure({
      faults: [{ kind: 'commit-then-fail', path: '^/users/\\{user_id\\}$', methods: ['PUT'], times: 2 }],
    });
    t.sim.resetStats();
    const contact = { last_name: 'Hopper' };
    const actions = await waitForActions(t, (await askFor(t, 'contact', targets, { contact })).batchId);
    t.sim.configure({ faults: [] });
    expect(actions.map((a) => a.state)).toEqual(['done', 'done']);
    for (const key of targets) expect(adminOf(key).contact).toMatchObject({ lastname: 'Hopper' });
    // One PUT per customer, committed (its answer a 500); the retry read the user changed.
    expect(t.sim.stats().byEndpoint[PUT_USER]).toEqual({ '500': 2 });
    expect(calls(t, 'GET /users/{user_id}')).toBe(4);
    expect(actions.map((a) => a.outcome)).toEqual([
      'tenant contact lastname changed; admin user contact as asked already',
      'tenant contact lastname changed; admin user contact as asked already',
    ]);
  });

  it('a stale user version (someone changed the user between our read and our write) reads again and retries', async () => {
    const key = keys[1]!;
    t.sim.configure({
      faults: [{ kind: 'concurrent-write', path: '^/users/\\{user_id\\}$', methods: ['PUT'], times: 1 }],
    });
    t.sim.resetStats();
    const [action] = await waitForActions(
      t,
      (await askFor(t, 'contact', [key], { contact: { phone: '+1 555 0100' } })).batchId,
    );
    t.sim.configure({ faults: [] });
    expect(action, action?.error).toMatchObject({ state: 'done' });
    expect(adminOf(key).contact).toMatchObject({ phone: '+1 555 0100' });
    expect(t.sim.stats().byEndpoint[PUT_USER]).toEqual({ '409': 1, '200': 1 });
    expect(calls(t, 'GET /users/{user_id}')).toBe(2);
  });

  it("an activated admin's new e-mail waits for its confirmation link; a lost answer sends no second link", async () => {
    const [first, second] = activatedKeys as [string, string];
    expect(adminOf(first).activated).toBe(true);
    const before = adminOf(first).contact.email;
    t.sim.configure({
      faults: [{ kind: 'commit-then-fail', path: '^/users/\\{user_id\\}$', methods: ['PUT'], times: 2 }],
    });
    t.sim.resetStats();
    const contact = { email: 'moved@activated-customer.example' };
    const actions = await waitForActions(t, (await askFor(t, 'contact', [first, second], { contact })).batchId);
    t.sim.configure({ faults: [] });
    expect(actions.map((a) => a.state)).toEqual(['done', 'done']);
    for (const key of [first, second]) {
      // The platform sent one link to the old address; the e-mail reads unchanged until it is opened.
      expect(adminOf(key)).toMatchObject({ pending_email: contact.email, email_change_links_sent: 1 });
    }
    expect(adminOf(first).contact.email).toBe(before);
    expect(t.sim.stats().byEndpoint[PUT_USER]).toEqual({ '500': 2 });
    expect(actions[0]!.outcome).toMatch(
      /admin user e-mail change sent already; the new e-mail applies once the link sent to the old address is opened/,
    );
  });
});
