import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER_STATES } from '../../src/workers/onboarding-store.js';
import { retryCustomer } from '../../src/workers/retry.js';
import { isEmailUnconfirmed } from '../../src/workers/unconfirmed-emails.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { loginTakenElsewhere } from '../helpers/simulator.js';
import { until } from '../helpers/wait.js';

/**
 * The index the batch page pages through (src/redis/lua/onboarding-index.lua) is kept by the same
 * scripts that move customers, so after every kind of move it says what the records say: real
 * workers, a conflict, a lost activation answer, a retry, a resend, a resubmission and a repeat.
 */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'batch-index', env: { STEP_ATTEMPTS: '2' } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const VIEWS = [...CUSTOMER_STATES, 'unconfirmed', 'needs-change', 'elsewhere'] as const;
const ASSIGN_ROLES = '^/users/\\{user_id\\}/access_policies$';
const SEND_ACTIVATION = '^/users/\\{user_id\\}/send-activation-email$';

/** Each view's customers and the step sums, from the records, as the dashboard computed them before the index. */
async function fromRecords(batchId: string) {
  const views = Object.fromEntries(VIEWS.map((v) => [v, [] as string[]])) as Record<(typeof VIEWS)[number], string[]>;
  let stepsDone = 0;
  let stepsPlanned = 0;
  for (const { key, record } of await t.pipeline.store.batchCustomers(batchId)) {
    if (!record) continue;
    if (record.batchId !== batchId) {
      views.elsewhere.push(key);
      continue;
    }
    views[record.state].push(key);
    if (isEmailUnconfirmed(record, batchId)) views.unconfirmed.push(key);
    if (record.state === 'failed' && record.needsChange) views['needs-change'].push(key);
    const steps = record.steps?.split(',') ?? [];
    stepsPlanned += steps.length;
    const ended = record.state === 'done' || record.state === 'failed';
    stepsDone += ended ? steps.length : Math.max(0, steps.indexOf(record.step ?? ''));
  }
  return { views, stepsDone, stepsPlanned };
}

async function fromIndex(batchId: string) {
  const entries = await Promise.all(
    VIEWS.map(async (v) => [v, await t.redis.zrange(t.pipeline.keys.batchIndex(batchId, v), 0, -1)] as const),
  );
  const batch = await t.pipeline.store.getBatch(batchId);
  return { views: Object.fromEntries(entries), stepsDone: batch?.stepsDone, stepsPlanned: batch?.stepsPlanned };
}

async function expectIndexAsRecords(batchId: string) {
  const expected = await fromRecords(batchId);
  expect(await fromIndex(batchId)).toEqual(expected);
  return expected.views;
}

describe("a batch's index", () => {
  it('says what the records say after claims, steps, failures, a retry, a resend, a resubmission and a repeat', async () => {
    await loginTakenElsewhere(t.sim, 'index.taken', 'Index Else');

    // A: a conflict (needs a change), and one activation e-mail whose answer is lost.
    t.sim.configure({
      faults: [{ kind: 'commit-then-fail', methods: ['POST'], path: SEND_ACTIVATION, times: 1, drop: true }],
    });
    const customers = sampleCustomers(4, 'Index');
    customers[0] = { ...customers[0]!, login: 'index.taken' };
    const a = (await t.enqueue(customers, { label: 'index-a' })).batch.id;
    expect(await t.waitForBatch(a)).toMatchObject({ done: 3, failed: 1 });
    const viewsA = await expectIndexAsRecords(a);
    expect(viewsA['needs-change']).toEqual(['Index-1']);
    expect(viewsA.unconfirmed).toHaveLength(1);

    // B: a failure a retry mends.
    t.sim.configure({ faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: ASSIGN_ROLES }] });
    const b = (await t.enqueue(sampleCustomers(1, 'IndexRetry'), { label: 'index-b' })).batch.id;
    expect(await t.waitForBatch(b)).toMatchObject({ failed: 1 });
    expect((await expectIndexAsRecords(b)).failed).toEqual(['IndexRetry-1']);
    t.sim.configure({ faults: [] });
    expect(await retryCustomer(t.pipeline, 'IndexRetry-1')).toMatchObject({
      outcome: 'retried',
    });
    expect(await t.waitForBatch(b)).toMatchObject({ done: 1, failed: 0 });
    expect((await expectIndexAsRecords(b)).done).toEqual(['IndexRetry-1']);

    // A resend writes the facts: the customer leaves the unconfirmed view.
    const [unconfirmed] = viewsA.unconfirmed;
    expect(await t.pipeline.store.amendFacts(unconfirmed!, (facts) => ({ ...facts, activation: 'email-sent' }))).toBe(
      true,
    );
    expect((await expectIndexAsRecords(a)).unconfirmed).toEqual([]);

    // C: the conflict resubmitted with another login (A's record moves to C), and a repeat of one onboarded.
    const c = (await t.enqueue([{ ...customers[0]!, login: 'index.fixed' }, customers[1]!], { label: 'index-c' })).batch
      .id;
    await until(
      async () => (await t.pipeline.store.getCustomer('Index-1'))?.state === 'done',
      'Index-1 onboarded in C',
    );
    expect(await t.waitForBatch(c)).toMatchObject({ done: 1, skipped: 1 });
    const viewsC = await expectIndexAsRecords(c);
    expect(viewsC).toMatchObject({ done: ['Index-1'], elsewhere: ['Index-2'] });
    const movedA = await expectIndexAsRecords(a);
    expect(movedA).toMatchObject({ failed: [], 'needs-change': [], elsewhere: ['Index-1'] });

    // Each batch's end is stamped by its last move.
    for (const id of [a, b, c]) {
      const batch = await t.pipeline.store.getBatch(id);
      expect(Date.parse(batch!.endedAt!)).toBeGreaterThanOrEqual(Date.parse(batch!.createdAt));
    }
  });
});
