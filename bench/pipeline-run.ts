/**
 * One measured run of the whole pipeline, as a user runs it: the simulator in its own process
 * (latency, optionally its own rate limit), N `acronis-onboard work` processes, and the
 * customers imported from a CSV with the real command (`acronis-onboard import FILE.csv`).
 * The clock starts when the import command starts and stops when the batch has ended.
 * Shared by `npm run bench:onboard` (bench/onboard.ts) and `npm run bench:pipeline`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { App } from '../src/app/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { removeKeys } from '../test/helpers/redis.js';
import { startSimProcess, type SimProcess } from './sim-process.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/acronis-onboard.js');
const WARM_UP = 5;

export interface RunOptions {
  customers: number;
  /** ACRONIS_RATE_LIMIT. */
  rateLimit: number;
  /** The simulator's own limit (429 over it); null: none. */
  simRateLimit: number | null;
  workers: number;
  concurrency: number;
  latencyMs: number;
  jitterMs: number;
  /** A folder for the CSV. */
  dir: string;
  /** Run `work` as `node bin/acronis-onboard.js work`, with Node's default heap, instead of through its #! line. */
  nodeDefaults?: boolean;
  /** PUT to /__sim/config as the measurement starts (after the warm-up): faults, limit changes counted from then. */
  simConfig?: Record<string, unknown>;
}

export interface SimStats {
  total: number;
  maxRequestsPerSecond: number;
  /** Absent from simulators older than issue 21. */
  maxAdmittedPerSecond?: number;
  tokenIssues: number;
  byEndpoint: Record<string, Record<string, number>>;
}

export interface RunResult {
  options: RunOptions;
  done: number;
  failed: number;
  /** From the start of the import command to the end of the batch. */
  seconds: number;
  /** How long the import command ran (start, validation, enqueue, exit). */
  importSeconds: number;
  firstDoneSeconds: number;
  /** [seconds since the import started, customers done, requests at the simulator, 429s among them], every 250 ms. */
  series: [number, number, number, number][];
  stats: SimStats;
  /** VmHWM of each work process, MiB. */
  workerPeakRssMiB: number[];
  simVars: Record<string, string>;
}

export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const sim = await startSimProcess(simArgs(opts));
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const env = benchEnv(sim, { redisUrl: 'redis://127.0.0.1:6379', prefix, ...opts });
  const app = await App.open(loadConfig(env), { logger: createLogger({ level: 'warn' }) });
  const redis = new Redis(env.REDIS_URL as string);
  // The command as it is installed: run through its #! line (heap flags), not `node bin/…`.
  const [command, args] = opts.nodeDefaults ? [process.execPath, [BIN, 'work']] : [BIN, ['work']];
  const workers = Array.from({ length: opts.workers }, () =>
    spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  try {
    await waitForWorkers(app, opts.workers);
    // A few customers first, outside the measurement: the simulator compiles its request
    // validators and the workers their code paths on first use, which would stall the first second.
    await importAndFollow(app, sim, env, writeCsv(opts.dir, WARM_UP, 'warm-up'));
    const file = writeCsv(opts.dir, opts.customers);
    if (opts.simConfig) {
      await fetch(`${sim.vars.ACRONIS_BASE_URL}/__sim/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(opts.simConfig),
      });
    }
    await fetch(`${sim.vars.ACRONIS_BASE_URL}/__sim/stats/reset`, { method: 'POST' });
    const measured = await importAndFollow(app, sim, env, file);
    return {
      options: opts,
      ...measured,
      workerPeakRssMiB: workers.map((w) => peakRssMiB(w)),
      simVars: sim.vars,
    };
  } finally {
    await Promise.all(workers.map((w) => stop(w)));
    sim.stop();
    await app.queue.obliterate({ force: true }).catch(() => undefined);
    await app.close();
    await removeKeys(redis, prefix);
    redis.disconnect();
  }
}

/** What every process of a bench run sees: nothing inherited but PATH and HOME. */
export function benchEnv(
  sim: { vars: Record<string, string> },
  opts: { redisUrl: string; prefix: string; rateLimit: number; concurrency: number },
): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...sim.vars,
    REDIS_URL: opts.redisUrl,
    QUEUE_PREFIX: opts.prefix,
    SECRETS_KEY: generateSecretsKey(),
    ACRONIS_RATE_LIMIT: String(opts.rateLimit),
    WORKER_CONCURRENCY: String(opts.concurrency),
    LOG_LEVEL: 'warn',
  };
}

function simArgs(opts: RunOptions): string[] {
  const args = ['--latency', String(opts.latencyMs), '--jitter', String(opts.jitterMs)];
  return opts.simRateLimit === null ? args : [...args, '--rate-limit', String(opts.simRateLimit)];
}

/** Every worker has finished its start-up (token, profile check) and listens for jobs. */
export async function waitForWorkers(app: App, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while ((await app.queue.getWorkersCount()) < count) {
    if (Date.now() > deadline) throw new Error(`only ${await app.queue.getWorkersCount()} of ${count} workers started`);
    await sleep(100);
  }
}

/** The customers as a CSV a user would import, one row each; `columns` adds a column whose cell depends on the row's number. */
export function writeCsv(
  dir: string,
  customers: number,
  tag = 'bench',
  columns: Record<string, (i: number) => string> = {},
): string {
  const path = join(dir, `${tag}-${customers}.csv`);
  const extra = Object.entries(columns);
  const lines = [['external_id,name,email,first_name,last_name', ...extra.map(([name]) => name)].join(',')];
  for (let i = 1; i <= customers; i++) {
    const cells = extra.map(([, cell]) => cell(i));
    lines.push(
      [`${tag}-${i},${tag} Customer ${i},admin${i}@${tag}-customer.example,Ada,Admin${i}`, ...cells].join(','),
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

async function importAndFollow(app: App, sim: SimProcess, env: Record<string, string>, file: string) {
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  const importer = spawn(BIN, ['import', file], { cwd: ROOT, env });
  let out = '';
  importer.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  importer.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const exited = new Promise<number>((ok) => importer.once('exit', () => ok(since())));
  let batchId: string | undefined;
  while (!(batchId = /^batch (\S+)/m.exec(out)?.[1])) {
    if (importer.exitCode !== null) throw new Error(`import failed:\n${out}`);
    await sleep(10);
  }
  const series: [number, number, number, number][] = [];
  let firstDoneSeconds = Number.NaN;
  let lastSample = -1;
  for (;;) {
    const batch = await app.store.getBatch(batchId);
    if (!batch) throw new Error(`batch ${batchId} is gone`);
    const t = since();
    if (batch.done > 0 && Number.isNaN(firstDoneSeconds)) firstDoneSeconds = t;
    if (t - lastSample >= 0.25 || batch.ended) {
      const stats = await simStats(sim);
      series.push([t, batch.done, stats.total, refusedOf(stats)]);
      lastSample = t;
    }
    if (batch.ended) {
      return {
        done: batch.done,
        failed: batch.failed,
        seconds: t,
        importSeconds: await exited,
        firstDoneSeconds,
        series,
        stats: await simStats(sim),
      };
    }
    await sleep(20);
  }
}

/** 429 answers of every endpoint. */
export function refusedOf(stats: SimStats): number {
  return Object.values(stats.byEndpoint).reduce((sum, byStatus) => sum + (byStatus['429'] ?? 0), 0);
}

export async function simStats(sim: { vars: Record<string, string> }): Promise<SimStats> {
  return (await (await fetch(`${sim.vars.ACRONIS_BASE_URL}/__sim/stats`)).json()) as SimStats;
}

/** The process's peak resident set (VmHWM), read before it is stopped. */
export function peakRssMiB(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((ok) => child.once('exit', ok));
  child.kill('SIGTERM');
  await exited;
}

/** Calls per customer by endpoint (every status counted). */
export function perCustomer(stats: SimStats, customers: number): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats.byEndpoint).map(([endpoint, byStatus]) => [
      endpoint,
      +(Object.values(byStatus).reduce((a, b) => a + b, 0) / customers).toFixed(3),
    ]),
  );
}
