import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import type { Fault } from '../../src/simulator/index.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'intents' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const calls = (endpoint: string, status?: string) => {
  const byStatus = t.sim.stats().byEndpoint[endpoint] ?? {};
  return status ? (byStatus[status] ?? 0) : Object.values(byStatus).reduce((a, b) => a + b, 0);
};

/** Six customers; the first `lost` POSTs to `path` are committed by the API and their answer dropped. */
async function withLostAnswers(tag: string, path: string, lost: number, activation?: 'password') {
  const n = 6;
  const fault: Fault = { kind: 'commit-then-fail', methods: ['POST'], path, times: lost, drop: true };
  t.sim.configure({ faults: [fault] });
  t.sim.resetStats();
  const customers = sampleCustomers(n, tag);
  const { batch } = await t.enqueue(customers, {
    profile: activation ? { ...STANDARD_PROFILE, activation } : STANDARD_PROFILE,
  });
  const ended = await t.waitForBatch(batch.id);
  t.sim.configure({ faults: [] });
  expect(ended).toMatchObject({ done: n, failed: 0 });
  const endpoint = `POST ${path.slice(1, -1).replace(/\\/g, '')}`;
  expect(calls(endpoint, 'reset'), endpoint).toBe(lost);
  return expectEachOnboardedOnce(t.sim.state(), customers);
}

describe('write-ahead intents: the API committed, the answer was lost', () => {
  it('POST /tenants: each retried customer reads the children changed since its intent once, and posts no second tenant', async () => {
    await withLostAnswers('LostTenant', '^/tenants$', 4);
    // 4 lost + 2 answered: the 4 retries found their tenant and did not post again.
    expect(calls('POST /tenants')).toBe(6);
    expect(calls('GET /tenants')).toBe(4);
    expect(calls('GET /search')).toBe(0);
    // The customers that were not retried made only their six writes.
    expect(t.sim.stats().total).toBe(6 * 6 + 4);
  });

  it('POST /users: each retried customer reads its tenant users and the one found (its personal tenant), no second user', async () => {
    await withLostAnswers('LostUser', '^/users$', 3);
    expect(calls('POST /users')).toBe(6);
    expect(calls('GET /tenants/{tenant_id}/users')).toBe(3);
    expect(calls('GET /users/{user_id}')).toBe(3);
    expect(t.sim.stats().total).toBe(6 * 6 + 3 * 2);
  });

  it('POST …/password: the retry reads the user once, finds it activated and sets no password twice', async () => {
    const onboarded = await withLostAnswers('LostPassword', '^/users/\\{user_id\\}/password$', 3, 'password');
    for (const { user } of onboarded) expect(user.activated, user.login).toBe(true);
    expect(calls('POST /users/{user_id}/password')).toBe(6);
    expect(calls('GET /users/{user_id}')).toBe(3);
    expect(t.sim.stats().total).toBe(6 * 6 + 3);
    const records = await Promise.all(onboarded.map((_, i) => t.pipeline.store.getCustomer(`LostPassword-${i + 1}`)));
    expect(records.map((r) => r?.facts.activation).sort()).toEqual([
      ...Array(3).fill('already-activated'),
      ...Array(3).fill('password-set'),
    ]);
  });

  it('POST …/registration_tokens: the retry lists the tenant tokens once and reuses the one made; one token per customer', async () => {
    const onboarded = await withLostAnswers('LostToken', '^/tenants/\\{tenant_id\\}/registration_tokens$', 3);
    const tokens = t.sim.state().registrationTokens;
    for (const { tenant, user } of onboarded) {
      const own = tokens.filter((r) => (r.scopes as string[]).some((s) => s.includes(user.personal_tenant_id!)));
      expect(own, tenant.name).toHaveLength(1);
    }
    expect(calls('POST /tenants/{tenant_id}/registration_tokens')).toBe(6);
    expect(calls('GET /tenants/{tenant_id}/registration_tokens')).toBe(3);
    expect(t.sim.stats().total).toBe(6 * 6 + 3);
  });
});

describe('the activation e-mail: sent at most once, and not lost to a refusal', () => {
  const activations = (tag: string) =>
    Promise.all([1, 2, 3, 4, 5, 6].map((i) => t.pipeline.store.getCustomer(`${tag}-${i}`))).then((records) =>
      records.map((r) => r?.facts.activation).sort(),
    );

  it('a lost answer to send-activation-email: no second e-mail; those customers say email-unconfirmed', async () => {
    const onboarded = await withLostAnswers('LostMail', '^/users/\\{user_id\\}/send-activation-email$', 3);
    for (const { user } of onboarded) expect(user.activation_emails_sent, user.login).toBe(1);
    expect(calls('POST /users/{user_id}/send-activation-email')).toBe(6);
    expect(await activations('LostMail')).toEqual([
      ...Array(3).fill('email-sent'),
      ...Array(3).fill('email-unconfirmed'),
    ]);
  });

  it('a 429 on send-activation-email sent nothing: the retry sends it, one e-mail each', async () => {
    const path = '^/users/\\{user_id\\}/send-activation-email$';
    t.sim.configure({ faults: [{ kind: '429', methods: ['POST'], path, times: 3 }] });
    t.sim.resetStats();
    const customers = sampleCustomers(6, 'RefusedMail');
    const { batch } = await t.enqueue(customers);
    const ended = await t.waitForBatch(batch.id);
    t.sim.configure({ faults: [] });
    expect(ended).toMatchObject({ done: 6, failed: 0 });
    expect(calls('POST /users/{user_id}/send-activation-email', '429')).toBe(3);
    for (const { user } of expectEachOnboardedOnce(t.sim.state(), customers))
      expect(user.activation_emails_sent, user.login).toBe(1);
    expect(await activations('RefusedMail')).toEqual(Array(6).fill('email-sent'));
  });
});
