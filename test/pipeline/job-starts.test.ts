import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

const CONCURRENCY = 8;
let t: TestPipeline;

beforeAll(async () => {
  // 1 request a second: BullMQ's limiter at twice the rate alone would start 2 jobs a second.
  t = await startTestPipeline({
    label: 'job-starts',
    env: { ACRONIS_RATE_LIMIT: '1', WORKER_CONCURRENCY: String(CONCURRENCY) },
  });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe("the step worker's job limiter", () => {
  it('lets every free slot start a job at once at a low rate: the first second does not hold the next steps back', async () => {
    await t.enqueue(sampleCustomers(CONCURRENCY + 4, 'Starts'));
    let started: number[] = [];
    await vi.waitFor(
      async () => {
        const active = await t.pipeline.queue.getJobs(['active']);
        started = active.map((job) => job.processedOn ?? 0).filter((at) => at > 0);
        expect(started.length).toBe(CONCURRENCY);
      },
      { timeout: 10_000, interval: 50 },
    );
    // Twice the rate alone: 2 starts, then 2 more each second, the last pair 3 s after the first.
    // A customer's next step then waited for the next second behind the first steps
    // (BENCHMARKS.md "First customer at 10/s").
    expect(Math.max(...started) - Math.min(...started)).toBeLessThan(1_500);
  });
});
