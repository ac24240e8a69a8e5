import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkActions, enqueueActions } from '../../src/workers/enqueue-action.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';
import { until } from '../helpers/wait.js';

/**
 * `work` with a partner whose API client is refused (docs/commands.md "A partner refused"): the
 * other partner's customers are onboarded, the refused partner is named once in the log, and its
 * customers wait (not failed) until a `work` with the right secret takes them on.
 */
let t: TwoPartnerInstall;
/** The workers running now: each test replaces them as the secret it needs changes. */
let serving: Awaited<ReturnType<TwoPartnerInstall['startWorkers']>>;
const stopServing = async () => {
  await serving.close(2000);
  await serving.app.close();
};

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'partner-refused' });
});
afterAll(async () => {
  await t?.close();
});

const refusedLines = () =>
  t.logs.filter((line) => line.includes('"msg":"partner \\"dc2\\" refused: ') && line.includes('DC2_CLIENT_SECRET'));

describe('work while one partner is refused', () => {
  it("onboards dc1's customers, says once that dc2 is refused, and leaves dc2's customers waiting", async () => {
    const wrong = { ...t.secretEnv, DC2_CLIENT_SECRET: 'not-the-secret-of-dc2' };
    serving = await t.startWorkers({ secretEnv: wrong });
    // Refused at start already: said there, and not again by any step.
    expect(refusedLines()).toHaveLength(1);
    expect(serving.partnerTenantId).toBe(t.sims[0].seed.partnerTenantId);

    const east = sampleCustomers(6, 'East');
    const west = sampleCustomers(4, 'West', { partner: 'dc2' });
    const { batch } = await t.producer.enqueue({ source: 'test', label: 'one refused' }, [...east, ...west]);
    const dc2Queue = t.app.queueFor('dc2');
    await until(async () => (await dc2Queue.getDelayedCount()) === west.length, "dc2's 4 steps waiting");
    await until(
      async () =>
        (await t.app.store.getCustomers(east.map((c) => c.external_id as string))).every((r) => r?.state === 'done'),
      "dc1's customers done",
    );
    expectEachOnboardedOnce(t.sims[0].state(), east);
    expect(t.sims[1].state().tenants.filter((x) => x.customer_id?.startsWith('West'))).toEqual([]);
    const westRecords = await t.app.store.getCustomers(west.map((c) => c.external_id as string));
    for (const record of westRecords) expect(record?.state).not.toBe('failed');
    expect(refusedLines()).toHaveLength(1);
    expect(t.logs.join('')).not.toContain('not-the-secret-of-dc2');

    // The secret put right (a new `work`): the waiting customers go on where they stopped.
    await stopServing();
    serving = await t.startWorkers();
    await dc2Queue.promoteJobs();
    const ended = await t.waitForBatch(batch.id);
    expect(ended).toMatchObject({ total: 10, done: 10, failed: 0 });
    expectEachOnboardedOnce(t.sims[1].state(), west);
  });

  it("a lifecycle action of the refused partner's customer waits too, and runs once the secret is right", async () => {
    await stopServing();
    serving = await t.startWorkers({ secretEnv: { ...t.secretEnv, DC2_CLIENT_SECRET: 'wrong' } });
    const deps = await t.app.actionEnqueueDeps();
    const requester = { kind: 'operator' as const, label: 'test' };
    const { accepted } = await checkActions(deps, [{ customer: 'West-1', action: 'suspend', params: {}, requester }]);
    const queued = await enqueueActions(deps, { action: 'suspend', source: 'test', label: 'refused' }, accepted);
    const id = queued.actions[0]?.id as string;
    const dc2Queue = t.app.queueFor('dc2');
    await until(async () => (await dc2Queue.getDelayedCount()) === 1, 'the suspend waiting');
    expect((await t.app.actions.get(id))?.state).not.toBe('failed');

    await stopServing();
    serving = await t.startWorkers();
    await dc2Queue.promoteJobs();
    await until(async () => (await t.app.actions.get(id))?.state === 'done', 'the suspend done');
    expect(t.sims[1].state().tenants.find((x) => x.customer_id === 'West-1')?.enabled).toBe(false);
  });
});
