import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { calls } from '../helpers/lifecycle.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { madeElsewhere, runAdopt, totalCalls } from './helpers.js';

/**
 * `adopt --all-unmanaged` over a partner whose customers were all made elsewhere. CI adopts
 * ADOPT_CUSTOMERS (default 300); `npm run bench:adopt` runs 5,000 (BENCHMARKS.md "Adopting").
 */
const CUSTOMERS = 300;
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({
    label: 'adopt-all',
    sim: { customers: CUSTOMERS },
    env: { ACRONIS_RATE_LIMIT: '400', WORKER_CONCURRENCY: '32' },
  });
  await t.startWorkers();
  // Two names an import would key alike: both refused, each naming the other.
  await madeElsewhere(t, 'Twin  Corp');
  await madeElsewhere(t, 'twin corp');
}, 60_000);
afterAll(async () => {
  await t?.close();
});

describe('adopt --all-unmanaged', { timeout: 400_000 }, () => {
  it('stamps every unmanaged customer once, 4 calls each, and records each as onboarded', async () => {
    t.sim.resetStats();
    const report = await runAdopt(t, { allUnmanaged: true, keyFrom: 'name' });
    expect(report.plan.adopt).toHaveLength(CUSTOMERS);
    expect(report.plan.refused.map((r) => [r.tenant, r.field])).toEqual([
      [expect.any(String), 'external_id'],
      [expect.any(String), 'external_id'],
    ]);
    expect(report.plan.refused[0]!.reason).toMatch(/"twin corp" is given to tenant .* too/);
    const batch = await t.waitForBatch(report.queued!.result.batch.id, 300_000);
    expect(batch).toMatchObject({ done: CUSTOMERS, failed: 0 });

    const children = t.sim
      .state()
      .tenants.filter((x) => x.parent_id === t.sim.seed.partnerTenantId && x.kind === 'customer');
    const unmanaged = children.filter((x) => !x.customer_id).map((x) => x.name);
    expect(unmanaged.sort()).toEqual(['Twin  Corp', 'twin corp']);
    // Keyed as an import keys a name without an external id: the same customer either way.
    expect(children.find((x) => x.name === 'Existing Customer 001')?.customer_id).toBe('existing customer 001');
    expect(children.filter((x) => x.customer_id).every((x) => x.version === 2)).toBe(true);
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(CUSTOMERS);
    // Per customer: its stamp, items, pricing, users (none here); besides, the listing, the token and the partner's id.
    const perCustomer = [
      'PUT /tenants/{tenant_id}',
      'GET /tenants/{tenant_id}/offering_items',
      'GET /tenants/{tenant_id}/pricing',
      'GET /tenants/{tenant_id}/users',
    ];
    // The simulator counts an answer once it is sent (fastify's onResponse), which may be after the worker read the last one.
    await until(async () => calls(t, 'GET /tenants/{tenant_id}/users') >= CUSTOMERS, 'the last answers counted');
    for (const endpoint of perCustomer) expect(calls(t, endpoint), endpoint).toBe(CUSTOMERS);
    expect(calls(t, 'GET /tenants')).toBe(1);
    expect(totalCalls(t) - 4 * CUSTOMERS).toBeLessThanOrEqual(3);
  });

  it('run again, it is a no-op', async () => {
    t.sim.resetStats();
    const report = await runAdopt(t, { allUnmanaged: true, keyFrom: 'name' });
    expect(report.plan.adopt).toEqual([]);
    expect(report.queued).toBeUndefined();
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
  });
});
