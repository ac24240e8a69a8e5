import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createRedis, type RedisConnection } from '../../src/redis/connection.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { Lease } from '../../src/redis/lease.js';
import type { SweepSummary } from '../../src/reconcile/drift.js';
import type { SweepReport } from '../../src/reconcile/sweep.js';
import { sweepExclusively, type ExclusiveSweepDeps } from '../../src/workers/exclusive-sweep.js';
import {
  createReconcileQueue,
  scheduleSweeps,
  SWEEP_SCHEDULER_ID,
  type ReconcileQueue,
} from '../../src/workers/reconcile-queue.js';
import { createSweepWorker, type SweepWorker } from '../../src/workers/sweep-worker.js';
import { connectTestRedis, removeKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

/**
 * The scheduler's machinery as two `work` processes run it (each with its own connections, queue,
 * lease and sweep worker, as startWorkers gives them): both register the scheduler every second,
 * and each sweep takes longer than that, so ticks fall due while one runs. The sweeps never
 * overlap, a tick that finds one running is skipped, and the scheduler is one: one job per tick.
 * (With the real sweep and startWorkers: test/reconcile/scheduled-sweep.test.ts.)
 */
const EVERY_MS = 1000;
/** Longer than the interval, so the next tick falls due while a sweep runs. */
const SWEEP_MS = 1600;
const prefix = uniquePrefix('sweep-schedule');
const keys = new RedisKeys(prefix);
const logger = createLogger({ level: 'silent' });
const sweeps: { process: string; start: number; end: number }[] = [];
const connections: RedisConnection[] = [];
const processes: {
  queue: ReconcileQueue;
  worker: SweepWorker;
  deps: ExclusiveSweepDeps;
  sweep: () => Promise<SweepReport>;
}[] = [];

/** `blocking`: a worker's own connection, made as App.workerConnection makes it. */
function connection(blocking = false): RedisConnection {
  const c = blocking ? createRedis(TEST_REDIS_URL, 'worker') : connectTestRedis(TEST_REDIS_URL);
  connections.push(c);
  return c;
}

function summary(startedAt: number, finishedAt: number): SweepSummary {
  const counts = { listingPages: 1, calls: 1, tenantsChanged: 0, customersChecked: 0, drifting: 0, healed: 0 };
  return { startedAt, finishedAt, mode: 'incremental', ...counts, byKind: {} };
}

/** One `work` process's part: its queue registers the scheduler, its worker sweeps under the lease. */
async function startProcess(name: string) {
  const redis = connection();
  const queue = createReconcileQueue(redis, prefix);
  const deps: ExclusiveSweepDeps = {
    lease: new Lease({ redis, key: keys.sweepLease, ttlMs: 10_000 }),
    redis,
    countsKey: keys.metrics.sweeps,
    logger,
  };
  const sweep = async (): Promise<SweepReport> => {
    const start = Date.now();
    await delay(SWEEP_MS); // the sweep's own work (API calls), not a wait of the test
    const end = Date.now();
    sweeps.push({ process: name, start, end });
    return { ...summary(start, end), findings: [], fixes: [], unknown: [], unread: [] };
  };
  await scheduleSweeps(queue, EVERY_MS);
  const worker = createSweepWorker({
    connection: connection(true),
    prefix,
    sweep: () => sweepExclusively(deps, 'scheduled', sweep),
    logger,
  });
  void worker.run();
  await worker.waitUntilReady();
  processes.push({ queue, worker, deps, sweep });
}

const counts = async () => connections[0]!.hgetall(keys.metrics.sweeps);

beforeAll(async () => {
  await Promise.all([startProcess('work-1'), startProcess('work-2')]);
});

afterAll(async () => {
  await Promise.all(processes.map((p) => p.worker.close()));
  await Promise.all(processes.map((p) => p.queue.close()));
  await removeKeys(connections[0]!, prefix);
  for (const c of connections) c.disconnect();
});

describe('scheduled sweeps with two work processes', () => {
  it('run one at a time, skip the ticks that fall during one, and come from one scheduler', async () => {
    await until(async () => Number((await counts()).ran ?? 0) >= 4, 'four sweeps to run', 120_000);
    const ordered = [...sweeps].sort((a, b) => a.start - b.start);
    for (let i = 1; i < ordered.length; i++)
      expect(ordered[i]!.start, `sweep ${i} started before sweep ${i - 1} ended`).toBeGreaterThanOrEqual(
        ordered[i - 1]!.end,
      );
    await until(async () => Number((await counts()).skipped ?? 0) >= 1, 'a tick to fall during a sweep', 60_000);

    // One scheduler, whatever the number of processes that registered it: one job per tick.
    const { queue } = processes[0]!;
    expect(await queue.getJobSchedulersCount()).toBe(1);
    const jobs = await queue.getJobs(['completed', 'failed', 'active', 'delayed', 'wait']);
    const ticks = jobs.map((j) => Number(String(j.id).split(':').pop())).sort((a, b) => a - b);
    expect(new Set(ticks).size).toBe(ticks.length);
    for (let i = 1; i < ticks.length; i++) expect(ticks[i]! - ticks[i - 1]!).toBeGreaterThanOrEqual(EVERY_MS);
    expect(jobs.every((j) => String(j.id).startsWith(`repeat:${SWEEP_SCHEDULER_ID}:`))).toBe(true);
  });

  it('refuses a manual sweep while a scheduled one runs, naming it', async () => {
    const { deps, sweep } = processes[1]!;
    await until(async () => (await deps.lease.holder())?.purpose === 'scheduled', 'a scheduled sweep to run', 60_000);
    const manual = await sweepExclusively(deps, 'manual', sweep);
    expect(manual).toMatchObject({ ran: false, heldBy: { purpose: 'scheduled' } });
  });

  it('stops with RECONCILE_EVERY=0: the scheduler is removed for every process', async () => {
    await scheduleSweeps(processes[1]!.queue, 0);
    expect(await processes[0]!.queue.getJobSchedulersCount()).toBe(0);
  });
});
