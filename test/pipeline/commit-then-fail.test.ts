import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchResults } from '../../src/workers/results.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;

beforeAll(async () => {
  // Every attempt of a mutating call has a 1-in-5 chance of the API committing it and
  // answering 500; plenty of attempts so that no customer exhausts them by bad luck.
  t = await startTestPipeline({ label: 'commit-fail', env: { STEP_ATTEMPTS: '15', STEP_BACKOFF_MS: '20' } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('the API commits, then the answer is lost', () => {
  it('at 20 % on every mutating endpoint, still makes each tenant and user exactly once', async () => {
    t.sim.configure({
      faults: [
        // The first three creations of a tenant and of a user certainly lose their answer…
        { kind: 'commit-then-fail', path: '^/tenants$', times: 3 },
        { kind: 'commit-then-fail', path: '^/users$', times: 3 },
        { kind: 'commit-then-fail', path: '^/users/\\{user_id\\}/password$', times: 3 },
        { kind: 'commit-then-fail', path: '^/tenants/\\{tenant_id\\}/registration_tokens$', times: 3 },
        // …and every mutating call (the above included) has a 1-in-5 chance.
        { kind: 'commit-then-fail', probability: 0.2 },
      ],
    });
    t.sim.resetStats();
    const customers = sampleCustomers(20, 'Commit', { activation: 'password' });
    const { batch } = await t.enqueue(customers);
    const ended = await t.waitForBatch(batch.id, 120_000);
    t.sim.configure({ faults: [] });
    expect(ended).toMatchObject({ done: 20, failed: 0 });

    const stats = t.sim.stats();
    // The faults did fire: POST /tenants and POST /users answered 500 after committing.
    expect(stats.byEndpoint['POST /tenants']?.['500'] ?? 0).toBeGreaterThanOrEqual(3);
    expect(stats.byEndpoint['POST /users']?.['500'] ?? 0).toBeGreaterThanOrEqual(3);
    const mutating500 = Object.entries(stats.byEndpoint)
      .filter(([endpoint]) => /^(POST|PUT|DELETE) /.test(endpoint) && endpoint !== 'POST /idp/token')
      .reduce((sum, [, byStatus]) => sum + (byStatus['500'] ?? 0), 0);
    expect(mutating500).toBeGreaterThan(10);

    const state = t.sim.state();
    for (const { user } of expectEachOnboardedOnce(state, customers)) expect(user.activated, user.login).toBe(true);
    // The password kept for each customer is the one the platform took, even where the
    // answer to POST /users/{id}/password was lost and the step ran again.
    expect(stats.byEndpoint['POST /users/{user_id}/password']?.['500'] ?? 0).toBeGreaterThan(0);
    const results = await batchResults(
      { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
      batch.id,
    );
    for (const result of results) {
      expect(['password-set', 'already-activated'], result.customer).toContain(result.activation);
      const me = await fetch(`${t.sim.url}/api/2/users/me`, {
        headers: { authorization: `Basic ${Buffer.from(`${result.login}:${result.password}`).toString('base64')}` },
      });
      expect(me.status, `${result.customer} cannot log in with the kept password`).toBe(200);
      // One registration token per customer, and it is the one the result hands out.
      const tokens = state.registrationTokens.filter((r) => r.tenant_uuid === result.tenant_id);
      expect(
        tokens.map((r) => r.token),
        result.customer,
      ).toEqual([result.registration_token]);
    }
  });
});
