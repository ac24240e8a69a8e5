import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { checkActions } from '../../src/workers/enqueue-action.js';
import { askFor, OPERATOR, waitForActions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'action-order' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key);

describe('one action at a time per customer', () => {
  it('an action asked while the customer is still onboarding waits for its onboarding to end', async () => {
    const customers = sampleCustomers(3, 'Racing');
    const keys = customers.map(customerKeyOf);
    // Every call takes a while, so the onboarding is certainly under way when the suspend comes.
    t.sim.configure({ latencyMs: 40 });
    const { batch } = await t.enqueue(customers);
    const queued = await askFor(t, 'suspend', keys);
    const actions = await waitForActions(t, queued.batchId);
    t.sim.configure({ latencyMs: 0 });
    expect((await t.waitForBatch(batch.id)).done).toBe(3);
    expect(actions.map((a) => a.state)).toEqual(['done', 'done', 'done']);
    for (const key of keys) expect(tenantOf(key)?.enabled, key).toBe(false);
    // Each suspend started after its customer's onboarding finished.
    const records = await t.pipeline.store.getCustomers(keys);
    actions.forEach((action, i) => {
      expect(Date.parse(action.startedAt!), action.customerKey).toBeGreaterThanOrEqual(
        Date.parse(records[i]!.finishedAt!),
      );
    });
  });

  it('two actions on one customer run one after the other, in the order asked', async () => {
    const customers = sampleCustomers(2, 'Ordered');
    const keys = customers.map(customerKeyOf);
    const { batch } = await t.enqueue(customers);
    await t.waitForBatch(batch.id);
    t.sim.configure({ latencyMs: 40 });
    const first = await askFor(t, 'suspend', keys);
    const second = await askFor(t, 'resume', keys);
    const [suspends, resumes] = [await waitForActions(t, first.batchId), await waitForActions(t, second.batchId)];
    t.sim.configure({ latencyMs: 0 });
    for (const key of keys) expect(tenantOf(key)?.enabled, key).toBe(true);
    suspends.forEach((suspend, i) => {
      expect(suspend.outcome).toBe('disabled');
      expect(resumes[i]!.outcome).toBe('enabled');
      expect(Date.parse(resumes[i]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(suspend.finishedAt!));
    });
  });

  it('refuses, before anything is queued, a customer this install did not onboard, saying how to adopt it', async () => {
    const { accepted, problems } = await checkActions(
      {
        queue: t.pipeline.queue,
        store: t.pipeline.store,
        actions: t.pipeline.actions,
        partnerTenantId: t.sim.seed.partnerTenantId,
      },
      [{ customer: 'Nobody Here', action: 'suspend', params: {}, requester: OPERATOR }],
    );
    expect(accepted).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({ customer: 'Nobody Here', field: 'customer', reason: expect.stringMatching(/adopt/) }),
    ]);
  });
});
