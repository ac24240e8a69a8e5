import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { OnboardingQueue } from '../../src/workers/queue.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';

/**
 * Each data centre is paced on its own (docs/partners.md): its own budget, its own queue and
 * limiter, so one data centre's limit or 429 storm never slows the other.
 */
let t: TwoPartnerInstall;
// Different limits, so a budget shared by the two, or one data centre paced at the other's rate,
// shows at the simulators; low enough that every first step waits on its budget.
const LIMITS = { dc1: 30, dc2: 20 } as const;

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'dc-isolation', rateLimits: [LIMITS.dc1, LIMITS.dc2] });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const refusedAt = (sim: RunningSimulator) =>
  Object.values(sim.stats().byEndpoint).reduce((n, byStatus) => n + (byStatus['429'] ?? 0), 0);

/** Every rate-limit TTL above 0 the queue showed while `run` ran: BullMQ's limiter key, set when the whole queue pauses. */
async function pausesWhile(queue: OnboardingQueue, run: () => Promise<void>): Promise<number[]> {
  const paused: number[] = [];
  const watcher = setInterval(() => {
    void queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER).then((ttl) => {
      if (ttl > 0) paused.push(ttl);
    });
  }, 50);
  try {
    await run();
  } finally {
    clearInterval(watcher);
  }
  return paused;
}

describe('two data centres, each paced on its own', () => {
  it('keeps each data centre under its own limit, counted at its simulator', async () => {
    const [dc1, dc2] = t.sims;
    for (const sim of t.sims) sim.resetStats();
    const east = sampleCustomers(16, 'Paced-East', { partner: 'dc1' });
    const west = sampleCustomers(16, 'Paced-West', { partner: 'dc2' });
    const { batch } = await t.producer.enqueue({ source: 'test', label: 'paced' }, [...east, ...west]);
    expect(await t.waitForBatch(batch.id)).toMatchObject({ total: 32, done: 32, failed: 0 });

    expectEachOnboardedOnce(dc1.state(), east);
    expectEachOnboardedOnce(dc2.state(), west);
    // Over three seconds, not one: a request held up on its way can cross into the next second
    // (docs/simulator.md). Unbudgeted, 16 jobs would send a data centre's ~96 requests in well under 3 s.
    expect(dc1.stats().total).toBeGreaterThanOrEqual(16 * 6);
    expect(dc2.stats().total).toBeGreaterThanOrEqual(16 * 6);
    expect(dc1.stats().maxRequestsPer3Seconds).toBeLessThanOrEqual(3 * LIMITS.dc1);
    expect(dc2.stats().maxRequestsPer3Seconds).toBeLessThanOrEqual(3 * LIMITS.dc2);
    expect(refusedAt(dc1) + refusedAt(dc2)).toBe(0);
  });

  it("a 429 storm in one data centre pauses only that one: the other's queue and budget never slow", async () => {
    const [dc1, dc2] = t.sims;
    const [queue1, queue2] = t.app.queues as [OnboardingQueue, OnboardingQueue];
    const budget1 = t.app.lane('dc1').budget;
    const budget2 = t.app.lane('dc2').budget;
    const before1 = await budget1.state();
    // Every other request to dc2 is refused with 429 and Retry-After: 1, for the first 20 refusals:
    // a limit, as test/pipeline/rate-limit.test.ts shows for a single data centre.
    dc2.configure({ faults: [{ kind: '429', probability: 0.5, times: 20 }] });
    for (const sim of t.sims) sim.resetStats();
    const east = sampleCustomers(16, 'Storm-East', { partner: 'dc1' });
    const west = sampleCustomers(16, 'Storm-West', { partner: 'dc2' });
    let pauses2: number[] = [];
    const pauses1 = await pausesWhile(queue1, async () => {
      pauses2 = await pausesWhile(queue2, async () => {
        const { batch } = await t.producer.enqueue({ source: 'test', label: 'storm' }, [...east, ...west]);
        expect(await t.waitForBatch(batch.id, 120_000)).toMatchObject({ total: 32, done: 32, failed: 0 });
      });
    }).finally(() => dc2.configure({ faults: [] }));

    // The storm was a limit in dc2: its queue paused, its budget found a limit and cut its rate.
    expect(refusedAt(dc2)).toBeGreaterThan(5);
    expect(pauses2.length).toBeGreaterThan(0);
    const after2 = await budget2.state();
    expect(after2.generation).toBeGreaterThan(0);
    expect(after2.foundPerSecond).toBeGreaterThan(0);
    // dc1 saw none of it: no 429, its queue never paused, its budget neither paused nor cut.
    expect(refusedAt(dc1)).toBe(0);
    expect(pauses1).toEqual([]);
    const after1 = await budget1.state();
    expect(after1).toMatchObject({ generation: before1.generation, foundPerSecond: 0, pausedForMs: 0 });
    expect(after1.ratePerSecond).toBeGreaterThanOrEqual(before1.ratePerSecond);

    // Every customer of both ends done, once, in its own data centre; neither over its limit.
    expectEachOnboardedOnce(dc1.state(), east);
    expectEachOnboardedOnce(dc2.state(), west);
    const records = await t.app.store.getCustomers([...east, ...west].map((c) => c.external_id as string));
    expect(records.map((r) => r?.state)).toEqual(Array(32).fill('done'));
    expect(dc1.stats().maxRequestsPer3Seconds).toBeLessThanOrEqual(3 * LIMITS.dc1);
    expect(dc2.stats().maxRequestsPer3Seconds).toBeLessThanOrEqual(3 * LIMITS.dc2);
    for (const queue of [queue1, queue2]) expect((await queue.getJobCounts('failed')).failed).toBe(0);
  });
});
