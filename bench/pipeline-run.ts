/**
 * One measured run of the whole pipeline, as a user runs it: the simulator in its own process
 * (latency, optionally its own rate limit), N `acronis-onboard work` processes, and the
 * customers imported from a CSV with the real command (`acronis-onboard import FILE.csv`).
 * The clock starts when the import command starts and stops when the batch has ended.
 * Shared by `npm run bench:onboard` (bench/onboard.ts) and `npm run bench:pipeline`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { readCallMetrics } from '../src/acronis/call-metrics.js';
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
  /**
   * Simulated data centres (docs/partners.md), each its own simulator process with the same
   * options, and a partner `dcN` in a partners file; the CSV's rows take them in turn. Default 1:
   * the single-partner install of ACRONIS_* variables.
   */
  dataCentres?: number;
}

export interface SimStats {
  total: number;
  maxRequestsPerSecond: number;
  /** Absent from simulators older than issue 21. */
  maxAdmittedPerSecond?: number;
  /** Epoch ms of the first and last arrival; absent from simulators before the lifecycle bench read them. */
  firstArrivalAt?: number;
  lastArrivalAt?: number;
  tokenIssues: number;
  byEndpoint: Record<string, Record<string, number>>;
}

export interface RunResult extends Followed {
  options: RunOptions;
  /** VmHWM of each work process, MiB. */
  workerPeakRssMiB: number[];
  /** CPU time (user + system) of each work process, and of the simulators together, over the whole run, s. */
  workerCpuSeconds: number[];
  simCpuSeconds: number;
  simVars: Record<string, string>;
  /** Requests the workers wrote out late, each taking a later slot out of the schedule (RequestBudget.sent). */
  lateSends: number;
}

export async function runPipeline(opts: RunOptions): Promise<RunResult> {
  const count = opts.dataCentres ?? 1;
  const sims = await Promise.all(Array.from({ length: count }, () => startSimProcess(simArgs(opts))));
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const envOpts = { redisUrl: 'redis://127.0.0.1:6379', prefix, ...opts };
  const env = count === 1 ? benchEnv(sims[0] as SimProcess, envOpts) : partnersEnv(sims, envOpts);
  const app = await App.open(loadConfig(env), { logger: createLogger({ level: 'warn' }), secretEnv: env });
  const redis = new Redis(env.REDIS_URL as string);
  // The command as it is installed: run through its #! line (heap flags), not `node bin/…`.
  const [command, args] = opts.nodeDefaults ? [process.execPath, [BIN, 'work']] : [BIN, ['work']];
  // BENCH_WORKER_LOG=FILE keeps the workers' log lines (LOG_LEVEL warn: the budget's decisions).
  const log = process.env.BENCH_WORKER_LOG ? openSync(process.env.BENCH_WORKER_LOG, 'a') : 'ignore';
  const workers = Array.from({ length: opts.workers }, () =>
    spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', log, 'inherit'] }),
  );
  const columns: Record<string, (i: number) => string> =
    count === 1 ? {} : { partner: (i) => `dc${((i - 1) % count) + 1}` };
  try {
    await waitForWorkers(app, opts.workers);
    // A few customers first, outside the measurement: the simulator compiles its request
    // validators and the workers their code paths on first use, which would stall the first second.
    await importAndFollow(app, sims, env, writeCsv(opts.dir, WARM_UP * count, 'warm-up', columns));
    // Each process writes its counts a second after its first since the last write: the warm-up's are in after that.
    await sleep(1_100);
    const lateSendsBefore = (await readCallMetrics(redis, app.keys.metrics)).lateSends;
    const file = writeCsv(opts.dir, opts.customers, 'bench', columns);
    for (const sim of sims) await startMeasuring(sim, opts.simConfig);
    const measured = await importAndFollow(app, sims, env, file);
    const result = {
      options: opts,
      ...measured,
      workerPeakRssMiB: workers.map((w) => peakRssMiB(w)),
      workerCpuSeconds: workers.map((w) => cpuSeconds(w)),
      simCpuSeconds: sims.reduce((sum, sim) => sum + cpuSeconds(sim.child), 0),
      simVars: (sims[0] as SimProcess).vars,
    };
    // A stopped worker has written all its counts.
    await Promise.all(workers.map((w) => stop(w)));
    return { ...result, lateSends: (await readCallMetrics(redis, app.keys.metrics)).lateSends - lateSendsBefore };
  } finally {
    await Promise.all(workers.map((w) => stop(w)));
    for (const sim of sims) sim.stop();
    for (const queue of app.queues) await queue.obliterate({ force: true }).catch(() => undefined);
    await app.close();
    await removeKeys(redis, prefix);
    redis.disconnect();
  }
}

/** The case's faults and limit changes from now on, and the counts from zero. */
async function startMeasuring(sim: SimProcess, simConfig: Record<string, unknown> | undefined): Promise<void> {
  if (simConfig) {
    await fetch(`${sim.vars.ACRONIS_BASE_URL}/__sim/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(simConfig),
    });
  }
  await fetch(`${sim.vars.ACRONIS_BASE_URL}/__sim/stats/reset`, { method: 'POST' });
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

/**
 * The environment of an install serving one partner `dcN` per simulator, from a partners file
 * written beside the CSV; every partner at `rateLimit` (ACRONIS_RATE_LIMIT, the file's default).
 */
export function partnersEnv(
  sims: readonly SimProcess[],
  opts: { redisUrl: string; prefix: string; rateLimit: number; concurrency: number; dir: string },
): Record<string, string> {
  const file = join(opts.dir, `partners-${opts.prefix}.json`);
  const secrets: Record<string, string> = {};
  const partners = sims.map((sim, i) => {
    const variable = `DC${i + 1}_CLIENT`;
    secrets[`${variable}_ID`] = sim.vars.ACRONIS_CLIENT_ID as string;
    secrets[`${variable}_SECRET`] = sim.vars.ACRONIS_CLIENT_SECRET as string;
    const base_url = sim.vars.ACRONIS_BASE_URL as string;
    return { name: `dc${i + 1}`, base_url, client_id_env: `${variable}_ID`, client_secret_env: `${variable}_SECRET` };
  });
  writeFileSync(file, JSON.stringify({ default: 'dc1', partners }, null, 2));
  // With a partners file the ACRONIS_* client variables are not used: left out, as an operator would.
  const single = benchEnv({ vars: {} }, opts);
  return { ...single, ...secrets, PARTNERS_FILE: file };
}

function simArgs(opts: RunOptions): string[] {
  const args = ['--latency', String(opts.latencyMs), '--jitter', String(opts.jitterMs)];
  return opts.simRateLimit === null ? args : [...args, '--rate-limit', String(opts.simRateLimit)];
}

/** Every worker has finished its start-up (token, profile check) and listens for jobs, on every data centre's queue. */
export async function waitForWorkers(app: App, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  const fewest = async () => Math.min(...(await Promise.all(app.queues.map((q) => q.getWorkersCount()))));
  while ((await fewest()) < count) {
    if (Date.now() > deadline) throw new Error(`only ${await fewest()} of ${count} workers started`);
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

/** What one import, followed to the end of its batch, measured. */
export interface Followed {
  done: number;
  failed: number;
  /** From the start of the import command to the end of the batch. */
  seconds: number;
  /** How long the import command ran (start, validation, enqueue, exit). */
  importSeconds: number;
  firstDoneSeconds: number;
  /**
   * [seconds since the import started, customers done, requests at the simulators, 429s among
   * them], every 250 ms; several simulators' counts summed.
   */
  series: [number, number, number, number][];
  /** Every simulator's counts summed (the peaks: the highest any one saw). */
  stats: SimStats;
  /** Each data centre's simulator's own stats, in the order given (one: the same as `stats`). */
  statsEach: SimStats[];
}

/**
 * Imports the CSV with the real command and follows its batch to the end, sampling the
 * simulators (one per data centre) every 250 ms.
 */
export async function importAndFollow(
  app: App,
  sims: readonly { vars: Record<string, string> }[],
  env: Record<string, string>,
  file: string,
): Promise<Followed> {
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
      const stats = sumStats(await Promise.all(sims.map((sim) => simStats(sim))));
      series.push([t, batch.done, stats.total, refusedOf(stats)]);
      lastSample = t;
    }
    if (batch.ended) {
      const statsEach = await Promise.all(sims.map((sim) => simStats(sim)));
      return {
        done: batch.done,
        failed: batch.failed,
        seconds: t,
        importSeconds: await exited,
        firstDoneSeconds,
        series,
        stats: sumStats(statsEach),
        statsEach,
      };
    }
    await sleep(20);
  }
}

/** Requests per second while 10 % to 90 % of the customers were done: the rate without the ramp at either end. */
export function sustained(r: RunResult): number {
  const n = r.options.customers;
  const from = r.series.find(([, done]) => done >= n * 0.1);
  const to = r.series.find(([, done]) => done >= n * 0.9);
  if (!from || !to || to[0] <= from[0]) return Number.NaN;
  return (to[2] - from[2]) / (to[0] - from[0]);
}

/** Several simulators' counts as one: totals summed, peaks the highest any one saw (each has its own limit). */
export function sumStats(each: readonly SimStats[]): SimStats {
  if (each.length === 1) return each[0] as SimStats;
  const byEndpoint: SimStats['byEndpoint'] = {};
  for (const stats of each)
    for (const [endpoint, byStatus] of Object.entries(stats.byEndpoint))
      for (const [status, n] of Object.entries(byStatus)) {
        const row = (byEndpoint[endpoint] ??= {});
        row[status] = (row[status] ?? 0) + n;
      }
  const most = (pick: (s: SimStats) => number | undefined) => Math.max(...each.map((s) => pick(s) ?? 0));
  return {
    total: each.reduce((sum, s) => sum + s.total, 0),
    maxRequestsPerSecond: most((s) => s.maxRequestsPerSecond),
    maxAdmittedPerSecond: most((s) => s.maxAdmittedPerSecond),
    tokenIssues: each.reduce((sum, s) => sum + s.tokenIssues, 0),
    byEndpoint,
  };
}

/** 429 answers of every endpoint. */
export function refusedOf(stats: SimStats): number {
  return Object.values(stats.byEndpoint).reduce((sum, byStatus) => sum + (byStatus['429'] ?? 0), 0);
}

export async function simStats(sim: { vars: Record<string, string> }): Promise<SimStats> {
  return (await (await fetch(`${sim.vars.ACRONIS_BASE_URL}/__sim/stats`)).json()) as SimStats;
}

/** The process's CPU time so far, user + system (/proc/PID/stat, in clock ticks of 1/100 s), read before it is stopped. */
export function cpuSeconds(child: ChildProcess): number {
  const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at the state, field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
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
