import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { actionJobId } from '../../src/lifecycle/action.js';
import { cancelOffboard, checkActions } from '../../src/workers/enqueue-action.js';
import { askFor, calls, OPERATOR, waitForActions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { simulatorApi } from '../helpers/simulator.js';
import { until } from '../helpers/wait.js';

let t: TestPipeline;
const customers = sampleCustomers(4, 'Offboard');
const keys = customers.map(customerKeyOf);

beforeAll(async () => {
  t = await startTestPipeline({ label: 'offboard' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 4 });
});
afterAll(async () => {
  await t?.close();
});

const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;
const deps = () => ({
  queue: t.pipeline.queue,
  store: t.pipeline.store,
  actions: t.pipeline.actions,
  partnerTenantId: t.sim.seed.partnerTenantId,
});

async function stateOf(actionId: string) {
  return (await t.pipeline.actions.get(actionId))?.state;
}

describe('offboard', () => {
  it('disables at once, lists the pending deletion with its date, and deletes after the grace period (a delayed job)', async () => {
    const key = keys[0]!;
    t.sim.resetStats();
    const queued = await askFor(t, 'offboard', [key], { graceMs: 2000 });
    const id = queued.actions[0]!.id;
    await until(async () => (await stateOf(id)) === 'pending-deletion', 'the offboard to disable the tenant');
    expect(tenantOf(key)).toMatchObject({ enabled: false, deleted_at: null });
    const pending = await t.pipeline.actions.pendingDeletions();
    expect(pending.map((a) => a.customerKey)).toEqual([key]);
    expect(Date.parse(pending[0]!.deleteAt!)).toBeGreaterThan(Date.now() - 5000);
    // The delete waits in BullMQ's delayed set until then.
    expect(await (await t.pipeline.queue.getJob(actionJobId(id, 'offboard-delete')))?.isDelayed()).toBe(true);

    await until(async () => (await stateOf(id)) === 'deleted', 'the delete after the grace period');
    expect(tenantOf(key).deleted_at).not.toBeNull();
    expect(await t.pipeline.actions.pendingDeletions()).toEqual([]);
    // 1 read + 1 write for the disable, 1 read + 1 delete after the grace period.
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(2);
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(1);
    expect(calls(t, 'DELETE /tenants/{tenant_id}')).toBe(1);
  });

  it('refuses any other action on a deleted customer, naming it', async () => {
    const { problems } = await checkActions(deps(), [
      { customer: keys[0]!, action: 'resume', params: {}, requester: OPERATOR },
    ]);
    expect(problems).toEqual([expect.objectContaining({ customer: keys[0], field: 'customer' })]);
    expect(problems[0]!.reason).toMatch(/deleted/);
  });

  it('offboard --cancel within the grace period calls the delete off and resumes the tenant', async () => {
    const key = keys[1]!;
    const queued = await askFor(t, 'offboard', [key], { graceMs: 10 * 60_000 });
    const id = queued.actions[0]!.id;
    await until(async () => (await stateOf(id)) === 'pending-deletion', 'the offboard to disable the tenant');
    expect(tenantOf(key).enabled).toBe(false);

    // While it is pending, nothing but the cancel is taken.
    const { problems } = await checkActions(deps(), [
      { customer: key, action: 'suspend', params: {}, requester: OPERATOR },
    ]);
    expect(problems[0]?.reason).toMatch(/offboard --cancel/);

    const cancelled = await cancelOffboard(deps(), key, OPERATOR);
    expect(cancelled.outcome).toBe('cancelled');
    if (cancelled.outcome !== 'cancelled') return;
    const [resume] = await waitForActions(t, cancelled.resume.batchId);
    expect(resume).toMatchObject({ action: 'resume', state: 'done', outcome: 'enabled' });
    expect(await stateOf(id)).toBe('cancelled');
    expect(tenantOf(key)).toMatchObject({ enabled: true, deleted_at: null });
    expect(await t.pipeline.queue.getJob(actionJobId(id, 'offboard-delete'))).toBeUndefined();
    expect(await t.pipeline.actions.pendingDeletions()).toEqual([]);
    expect((await cancelOffboard(deps(), key, OPERATOR)).outcome).toBe('nothing-pending');
  });

  it('the API commits the delete and the answer is lost: the re-run finds the tenant gone and deletes nothing twice', async () => {
    const key = keys[2]!;
    t.sim.configure({
      faults: [{ kind: 'commit-then-fail', path: '^/tenants/\\{tenant_id\\}$', methods: ['DELETE'], times: 1 }],
    });
    t.sim.resetStats();
    const queued = await askFor(t, 'offboard', [key], { graceMs: 0 });
    const id = queued.actions[0]!.id;
    await until(async () => (await stateOf(id)) === 'deleted', 'the offboard to end');
    t.sim.configure({ faults: [] });
    expect(tenantOf(key).deleted_at).not.toBeNull();
    expect(t.sim.stats().byEndpoint['DELETE /tenants/{tenant_id}']).toEqual({ '500': 1 });
    expect((await t.pipeline.actions.get(id))?.outcome).toBe('was deleted already: nothing sent');
  });

  it('a tenant enabled again outside acronis-onboard during the grace period is not deleted', async () => {
    const key = keys[3]!;
    const queued = await askFor(t, 'offboard', [key], { graceMs: 1500 });
    const id = queued.actions[0]!.id;
    await until(async () => (await stateOf(id)) === 'pending-deletion', 'the offboard to disable the tenant');
    const tenant = tenantOf(key);
    const res = await simulatorApi(t.sim).put(`/tenants/${tenant.id}`, { enabled: true, version: tenant.version });
    expect(res.status, res.text).toBe(200);
    await until(async () => (await stateOf(id)) === 'failed', 'the delete to give up');
    expect((await t.pipeline.actions.get(id))?.error).toMatch(/enabled again/);
    expect(tenantOf(key)).toMatchObject({ enabled: true, deleted_at: null });
  });
});
