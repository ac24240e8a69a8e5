import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SweepSummary } from '../../src/reconcile/drift.js';
import { SWEEP_SCHEDULER_ID } from '../../src/workers/reconcile-queue.js';
import type { ExclusiveSweepOutcome } from '../../src/workers/exclusive-sweep.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { runCli } from '../helpers/cli.js';

/**
 * RECONCILE_EVERY as `work` runs it: two work-like setups (each its own App and connections, as
 * two `work` processes, through startWorkers) register the scheduler every second while a batch
 * is onboarded, and the real sweep runs against the simulator (each call slowed, so a sweep can
 * outlast the interval). There is one scheduler and one job per tick; the sweeps, as each recorded
 * its start and end, never overlap; the funnel of the batch is filled in by them.
 */
let t: TestPipeline;
const EVERY_MS = 1000;

beforeAll(async () => {
  t = await startTestPipeline({
    label: 'scheduled-sweep',
    env: { RECONCILE_EVERY: '1s' },
    sim: { latencyMs: 120 },
  });
  await Promise.all([t.startWorkers(), t.startWorkers()]);
});

afterAll(async () => {
  await t?.close();
});

/** Each completed sweep job's outcome, oldest tick first. */
async function sweepJobs(): Promise<{ tick: number; outcome: ExclusiveSweepOutcome<SweepSummary> }[]> {
  const jobs = await t.pipeline.reconcile.getJobs(['completed']);
  return jobs
    .map((job) => ({
      tick: Number(String(job.id).split(':').pop()),
      outcome: job.returnvalue as ExclusiveSweepOutcome<SweepSummary>,
    }))
    .sort((a, b) => a.tick - b.tick);
}

const ran = async () => (await sweepJobs()).flatMap(({ outcome }) => (outcome.ran ? [outcome.report] : []));

describe('scheduled sweeps with two work processes', () => {
  it('one scheduler, one sweep at a time, and the funnel filled in by them', async () => {
    const { batch } = await t.enqueue(sampleCustomers(6, 'Sched'));
    const ended = await t.waitForBatch(batch.id, 120_000);
    expect(ended).toMatchObject({ done: 6, failed: 0 });
    const endedAt = Date.now();
    // Sweeps that started after the batch ended have checked every customer of it.
    await until(
      async () => (await ran()).filter((s) => s.startedAt > endedAt).length >= 2,
      'two sweeps after the batch ended',
      120_000,
    );

    const sweeps = (await ran()).sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < sweeps.length; i++)
      expect(sweeps[i]!.startedAt, `sweep ${i} started before sweep ${i - 1} ended`).toBeGreaterThanOrEqual(
        sweeps[i - 1]!.finishedAt,
      );

    expect(await t.pipeline.reconcile.getJobSchedulersCount()).toBe(1);
    const ticks = (await sweepJobs()).map((j) => j.tick);
    expect(new Set(ticks).size).toBe(ticks.length);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBeGreaterThanOrEqual(EVERY_MS);
    const jobIds = (await t.pipeline.reconcile.getJobs(['completed'])).map((j) => String(j.id));
    expect(jobIds.every((id) => id.startsWith(`repeat:${SWEEP_SCHEDULER_ID}:`))).toBe(true);

    const funnel = await t.pipeline.drift.funnel(batch.id);
    expect(funnel).toMatchObject({ customers: 6, created: 6 });
    expect(funnel.checkedAt).not.toBeNull();
    expect(await t.pipeline.drift.lastSweep()).not.toBeNull();
  });

  it('refuses `reconcile` while another sweep holds the lease, naming it, without reading anything (exit 1)', async () => {
    const key = t.pipeline.keys.sweepLease;
    const since = Date.parse('2026-12-06T03:00:12Z');
    const holder = JSON.stringify({ token: 'elsewhere', owner: 'host-2:4711', purpose: 'scheduled', since });
    // As a sweep of another process holds it: taken once the scheduled sweeps here leave it free.
    await until(async () => (await t.redis.set(key, holder, 'PX', 60_000, 'NX')) === 'OK', 'the lease to be free');
    const listingsBefore = t.sim.stats().byEndpoint['GET /tenants'];
    expect(listingsBefore, 'the scheduled sweeps listed the tenants').toBeDefined();
    const run = await runCli(t, ['reconcile'], { RECONCILE_EVERY: '0' });
    await t.redis.del(key);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'a scheduled sweep on host-2:4711 since 03:00:12 UTC is running: one sweep runs at a time; try again once it has ended',
    );
    expect(run.stderr).not.toMatch(/\bat .*\.js:\d+/);
    expect(t.sim.stats().byEndpoint['GET /tenants']).toEqual(listingsBefore);
  });

  it('reads every customer again once the last full sweep is a week old, then goes back to incremental', async () => {
    const key = t.pipeline.keys.lastFullSweep;
    expect(
      (await ran()).some((s) => s.mode === 'incremental'),
      'the sweeps after the first are incremental',
    ).toBe(true);
    const weekAgo = Date.now() - 7 * 24 * 3600_000 - 60_000;
    await t.redis.set(key, String(weekAgo));
    const asked = Date.now();
    await until(
      async () => (await ran()).some((s) => s.startedAt >= asked && s.mode === 'full'),
      'a full scheduled sweep',
      120_000,
    );
    expect(Number(await t.redis.get(key))).toBeGreaterThan(asked);
    const fullAt = Number(await t.redis.get(key));
    await until(
      async () => (await ran()).some((s) => s.startedAt > fullAt && s.mode === 'incremental'),
      'an incremental sweep after it',
      120_000,
    );
  });
});
