import { afterEach, describe, expect, it, vi } from 'vitest';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

const CONCURRENCY = 8;
let t: TestPipeline | undefined;

afterEach(async () => {
  await t?.close();
  t = undefined;
});

/**
 * `processes` sets of step workers (each its own App and connections, as a `work` process) of 8
 * slots at 1 request a second, fed more first steps than they have slots: milliseconds from the
 * first job start to the last once every slot is busy.
 */
async function startSpread(label: string, processes: number): Promise<number> {
  t = await startTestPipeline({ label, env: { ACRONIS_RATE_LIMIT: '1', WORKER_CONCURRENCY: String(CONCURRENCY) } });
  for (let i = 0; i < processes; i++) await t.startWorkers();
  const pipeline = t;
  await pipeline.enqueue(sampleCustomers(processes * CONCURRENCY + 4, label));
  let started: number[] = [];
  await vi.waitFor(
    async () => {
      const active = await pipeline.pipeline.queue.getJobs(['active']);
      started = active.map((job) => job.processedOn ?? 0).filter((at) => at > 0);
      expect(started.length).toBe(processes * CONCURRENCY);
    },
    { timeout: 10_000, interval: 50 },
  );
  return Math.max(...started) - Math.min(...started);
}

describe("the step worker's job limiter", () => {
  it('lets every free slot start a job at once at a low rate: the first second does not hold the next steps back', async () => {
    // Twice the rate alone: 2 starts, then 2 more each second, the last pair 3 s after the first.
    // A customer's next step then waited for the next second behind the first steps
    // (BENCHMARKS.md "First customer at 10/s").
    expect(await startSpread('job-starts', 1)).toBeLessThan(1_500);
  });

  it("lets every process's free slots start at once: BullMQ counts the starts of all of them together", async () => {
    // With room for one process's slots (twice the rate plus 8: 10 starts a window) three
    // processes' 24 slots fill over three windows, the last start 2 s after the first.
    expect(await startSpread('job-starts-processes', 3)).toBeLessThan(1_500);
  });
});
