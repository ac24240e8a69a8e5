import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;
const LIMIT = 20;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'rate', env: { ACRONIS_RATE_LIMIT: String(LIMIT), WORKER_CONCURRENCY: '16' } });
  // Two worker "processes" (separate connections and clients) sharing one budget.
  await t.startWorkers();
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('the API budget', () => {
  it('keeps every worker together under ACRONIS_RATE_LIMIT requests per second, measured at the simulator', async () => {
    t.sim.resetStats();
    const { batch } = await t.enqueue(sampleCustomers(12, 'Rate'));
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 12, failed: 0 });
    const stats = t.sim.stats();
    expect(stats.total).toBeGreaterThanOrEqual(12 * 6);
    // Over three seconds, not one: a request held up on its way can cross into the next second
    // (docs/simulator.md); unbudgeted, 32 slots would send the batch's ~80 requests in well under 3 s.
    expect(stats.maxRequestsPer3Seconds).toBeLessThanOrEqual(3 * LIMIT);
  });

  it("every worker process hears the budget's decisions as they are written: one subscription each", async () => {
    const channel = t.pipeline.budget.keys.decisions;
    await vi.waitFor(async () => {
      const [, subscribers] = (await t.redis.pubsub('NUMSUB', channel)) as [string, number];
      expect(subscribers).toBe(2);
    });
  });

  it('scattered 429s are noise: only the refused steps wait their Retry-After, the queue is never paused', async () => {
    // Three refusals spread over the batch (every fifth POST /tenants… until three were answered).
    t.sim.configure({ faults: [{ kind: '429', methods: ['POST'], path: '^/tenants$', times: 3 }] });
    t.sim.resetStats();
    const paused: number[] = [];
    const watcher = setInterval(() => {
      void t.pipeline.queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER).then((ttl) => {
        if (ttl > 0) paused.push(ttl);
      });
    }, 50);
    try {
      const { batch } = await t.enqueue(sampleCustomers(6, 'Scattered'));
      expect(await t.waitForBatch(batch.id, 120_000)).toMatchObject({ done: 6, failed: 0 });
    } finally {
      clearInterval(watcher);
      t.sim.configure({ faults: [] });
    }
    const refused = Object.values(t.sim.stats().byEndpoint).reduce((sum, byStatus) => sum + (byStatus['429'] ?? 0), 0);
    expect(refused).toBe(3);
    expect(paused).toEqual([]);
    expect((await t.pipeline.budget.state()).pausedForMs).toBe(0);
    expect(t.logs.join('')).toContain('acronis answered 429: this step waits, the others go on');
    expect(t.logs.join('')).not.toContain('pausing the whole pipeline');
  });

  it('a 429 storm is a limit: it pauses the whole queue; nothing fails and the rate stays under the limit', async () => {
    // Every other request is refused with 429 and Retry-After: 1, for the first 20 refusals. The
    // batch is big enough that every first step waits on the budget, so the pace is the budget's
    // even on a busy machine: a limit is judged on how much of a second's pace is refused
    // (rate-estimator.ts), and a pace held down by a slow machine would make a storm look scattered.
    t.sim.configure({ faults: [{ kind: '429', probability: 0.5, times: 20 }] });
    t.sim.resetStats();
    const paused: number[] = [];
    const watcher = setInterval(() => {
      void t.pipeline.queue.getRateLimitTtl(Number.MAX_SAFE_INTEGER).then((ttl) => {
        if (ttl > 0) paused.push(ttl);
      });
    }, 50);
    try {
      const { batch } = await t.enqueue(sampleCustomers(16, 'Storm'));
      const ended = await t.waitForBatch(batch.id, 120_000);
      expect(ended).toMatchObject({ done: 16, failed: 0 });
    } finally {
      clearInterval(watcher);
      t.sim.configure({ faults: [] });
    }
    const stats = t.sim.stats();
    const refused = Object.values(stats.byEndpoint).reduce((sum, byStatus) => sum + (byStatus['429'] ?? 0), 0);
    expect(refused).toBeGreaterThan(5);
    // The queue itself was rate limited (BullMQ's limiter key), not only the jobs that saw a 429.
    expect(paused.length).toBeGreaterThan(0);
    expect(Math.max(...paused)).toBeLessThanOrEqual(1000);
    expect(stats.maxRequestsPer3Seconds).toBeLessThanOrEqual(3 * LIMIT);
    const failedJobs = await t.pipeline.queue.getJobCounts('failed');
    expect(failedJobs.failed).toBe(0);
    expect(t.logs.join('')).toContain('acronis answered 429: pausing the whole pipeline');
  });
});
