import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { askFor, calls, waitForActions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { simulatorApi } from '../helpers/simulator.js';

let t: TestPipeline;
const customers = sampleCustomers(4, 'Suspend');
const keys = customers.map(customerKeyOf);

beforeAll(async () => {
  t = await startTestPipeline({ label: 'suspend' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 4 });
});
afterAll(async () => {
  await t?.close();
});

const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;

describe('suspend and resume', () => {
  it('suspends each customer with 1 read + 1 write, and records who asked and the outcome', async () => {
    t.sim.resetStats();
    const queued = await askFor(t, 'suspend', keys);
    const actions = await waitForActions(t, queued.batchId);
    expect(actions.map((a) => a.state)).toEqual(['done', 'done', 'done', 'done']);
    for (const key of keys) expect(tenantOf(key).enabled, key).toBe(false);
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(4);
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(4);
    expect(actions[0]).toMatchObject({ requesterKind: 'operator', requester: 'operator (test)', outcome: 'disabled' });
    const timeline = await t.pipeline.actions.customerActions(keys[0]!);
    expect(timeline.map((a) => a.action)).toEqual(['suspend']);
  });

  it('sends nothing for a customer already suspended', async () => {
    t.sim.resetStats();
    const queued = await askFor(t, 'suspend', keys.slice(0, 2));
    const actions = await waitForActions(t, queued.batchId);
    expect(actions.map((a) => a.outcome)).toEqual([
      'was disabled already: nothing sent',
      'was disabled already: nothing sent',
    ]);
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
  });

  it('a stale version (someone changed the tenant between our read and our write) reads again and retries', async () => {
    const key = keys[0]!;
    const api = simulatorApi(t.sim);
    // Another client changes the tenant between our read and our first write: that PUT meets a 409.
    t.sim.configure({
      faults: [{ kind: 'concurrent-write', path: '^/tenants/\\{tenant_id\\}$', methods: ['PUT'], times: 1 }],
    });
    t.sim.resetStats();
    const queued = await askFor(t, 'resume', [key]);
    const [action] = await waitForActions(t, queued.batchId);
    t.sim.configure({ faults: [] });
    expect(action).toMatchObject({ state: 'done' });
    expect(tenantOf(key).enabled).toBe(true);
    expect((await api.get(`/tenants/${tenantOf(key).id}`)).body.enabled).toBe(true);
    // Read, write (409), read again, write: the floor plus one read and one write for the race.
    expect(t.sim.stats().byEndpoint['PUT /tenants/{tenant_id}']).toEqual({ '409': 1, '200': 1 });
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(3);
  });

  it('resumes, and the timeline lists both actions newest first', async () => {
    const queued = await askFor(t, 'resume', keys.slice(1));
    const actions = await waitForActions(t, queued.batchId);
    expect(actions.every((a) => a.state === 'done')).toBe(true);
    for (const key of keys) expect(tenantOf(key).enabled, key).toBe(true);
    const timeline = await t.pipeline.actions.customerActions(keys[1]!);
    expect(timeline.map((a) => a.action)).toEqual(['resume', 'suspend', 'suspend']);
  });

  it('the API commits the disable and the answer is lost: the re-run reads it disabled and sends nothing more', async () => {
    t.sim.configure({
      faults: [{ kind: 'commit-then-fail', path: '^/tenants/\\{tenant_id\\}$', methods: ['PUT'], times: 4 }],
    });
    t.sim.resetStats();
    const queued = await askFor(t, 'suspend', keys);
    const actions = await waitForActions(t, queued.batchId);
    t.sim.configure({ faults: [] });
    expect(actions.map((a) => a.state)).toEqual(['done', 'done', 'done', 'done']);
    for (const key of keys) expect(tenantOf(key).enabled, key).toBe(false);
    // One PUT per customer, committed; its retry read the tenant disabled and sent nothing.
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(4);
    expect(t.sim.stats().byEndpoint['PUT /tenants/{tenant_id}']?.['500']).toBe(4);
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(8);
  });
});
