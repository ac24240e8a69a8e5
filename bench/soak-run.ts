/**
 * The fault soak (docs/soak.md): the simulator in its own process with every fault of
 * bench/soak-faults.ts, a private `redis-server` with AOF, `work` processes and
 * `import FILE --wait`, all real commands. While the batch runs, each `work` process is
 * SIGKILLed and started again, and Redis is SIGKILLed once and started again on its data.
 * Then the simulator's state is counted for duplicates and the store for lost and stuck
 * customers. Shared by `npm run bench:soak` (bench/soak.ts) and test/pipeline/soak.test.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '../src/app/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import type { SimulatorState } from '../src/simulator/state.js';
import { startPrivateRedis, type PrivateRedisServer } from '../test/helpers/redis-server.js';
import { until } from '../test/helpers/wait.js';
import { benchEnv, peakRssMiB, simStats, waitForWorkers, writeCsv, type SimStats } from './pipeline-run.js';
import { soakFaults, type FaultRates } from './soak-faults.js';
import {
  countDuplicates,
  doneButMissing,
  unconfirmedEmails,
  type ImportOutcome,
  type SoakReport,
} from './soak-report.js';
import { startSimProcess, waitForLine, type SimProcess } from './sim-process.js';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/acronis-onboard.js');
const WARM_UP = 10;
/** Called once by each process as it starts (its access token, its client check), not per customer. */
const START_UP_ENDPOINTS = ['POST /idp/token', 'GET /clients/{client_id}'];
const LAST_STEP_ENDPOINT = 'POST /tenants/{tenant_id}/registration_tokens';

export interface SoakOptions {
  customers: number;
  /** ACRONIS_RATE_LIMIT. */
  rateLimit: number;
  latencyMs: number;
  jitterMs: number;
  workers: number;
  concurrency: number;
  rates: FaultRates;
  /** SIGKILLs of each `work` process, spread over the run. */
  killsPerWorker: number;
  /** How long Redis stays down after its SIGKILL. */
  redisDownMs: number;
  /** No API call for this long: the run stops and what is not finished counts as stuck. */
  stallSeconds: number;
  activation: 'alternate' | 'email' | 'password';
  /** How long `import --wait` may take to print its summary after the batch ended. */
  importGraceMs: number;
  /** More variables for every command (ACRONIS_TIMEOUT_MS, JOB_LOCK_MS, …). */
  env: Record<string, string>;
  /** A folder for the CSVs and the `work` logs. */
  dir: string;
  /** Progress lines (kills, restarts); default none. */
  log?: (line: string) => void;
}

type Target = number | 'redis';

/** The kills, spread evenly over the customers' progress; Redis in the middle. */
export function killSchedule(workers: number, killsPerWorker: number): { at: number; target: Target }[] {
  const targets: Target[] = [];
  for (let k = 0; k < killsPerWorker; k++) for (let w = 0; w < workers; w++) targets.push(w);
  targets.splice(Math.floor(targets.length / 2), 0, 'redis');
  return targets.map((target, i) => ({ at: (i + 1) / (targets.length + 1), target }));
}

/** Every process the soak started, with the highest VmHWM seen for each role. */
class Children {
  private readonly live = new Map<ChildProcess, string>();
  readonly peakRssMiB: Record<string, number> = {};

  constructor(private readonly env: Record<string, string>) {}

  spawn(role: string, args: string[], stdio: 'pipe' | string): ChildProcess {
    const fd = stdio === 'pipe' ? null : openSync(stdio, 'a');
    const child = spawn(BIN, args, {
      cwd: ROOT,
      env: this.env,
      stdio: fd === null ? ['ignore', 'pipe', 'pipe'] : ['ignore', fd, fd],
    });
    if (fd !== null) closeSync(fd);
    this.live.set(child, role);
    child.once('exit', () => this.live.delete(child));
    return child;
  }

  /** VmHWM is gone with the process, so it is read while each one runs. */
  sample(): void {
    for (const [child, role] of this.live) {
      try {
        // A process killed but not yet reaped has a status without VmHWM: NaN, skipped.
        const mib = peakRssMiB(child);
        if (Number.isFinite(mib)) this.peakRssMiB[role] = Math.max(this.peakRssMiB[role] ?? 0, mib);
      } catch {
        // exited between the check and the read
      }
    }
  }

  async kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    this.sample();
    const exited = new Promise((ok) => child.once('exit', ok));
    child.kill(signal);
    await exited;
  }

  async killAll(): Promise<void> {
    await Promise.all([...this.live.keys()].map((child) => this.kill(child)));
  }
}

interface Soak {
  o: SoakOptions;
  redis: PrivateRedisServer;
  sim: SimProcess;
  app: App;
  children: Children;
  workers: ChildProcess[];
  workerRuns: number;
  kills: { work: number; redis: number };
}

function startWork(s: Soak): ChildProcess {
  s.workerRuns++;
  return s.children.spawn('work', ['work'], join(s.o.dir, `work-${s.workerRuns}.log`));
}

async function simRequest(sim: SimProcess, path: string, method = 'GET', body?: unknown): Promise<unknown> {
  const res = await fetch(`${sim.vars.ACRONIS_BASE_URL}${path}`, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`simulator ${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json();
}

const callsOf = (stats: SimStats, endpoint: string, status?: (s: string) => boolean) =>
  Object.entries(stats.byEndpoint[endpoint] ?? {})
    .filter(([s]) => status?.(s) ?? true)
    .reduce((sum, [, n]) => sum + n, 0);

/** API calls without those of the processes' start-ups. */
const customerCalls = (stats: SimStats) =>
  START_UP_ENDPOINTS.reduce((total, endpoint) => total - callsOf(stats, endpoint), stats.total);

/** The CSV's activation column: 'alternate' onboards odd rows by e-mail and even ones by a password we set, so both are counted. */
function activationColumn(activation: SoakOptions['activation']): Record<string, (i: number) => string> {
  return { activation: (i) => (activation === 'alternate' ? (i % 2 === 1 ? 'email' : 'password') : activation) };
}

/** Calls per customer of a fault-free batch, through the same commands. */
async function warmUp(s: Soak): Promise<number> {
  await simRequest(s.sim, '/__sim/stats/reset', 'POST');
  const file = writeCsv(s.o.dir, WARM_UP, 'warm-up', activationColumn(s.o.activation));
  const importer = s.children.spawn('import', ['import', file, '--wait'], 'pipe');
  const out = collect(importer);
  await out.closed;
  const code = importer.exitCode;
  if (code !== 0) throw new Error(`the fault-free warm-up failed (import exited ${code}):\n${out.text()}`);
  return customerCalls(await simStats(s.sim)) / WARM_UP;
}

interface Collected {
  text(): string;
  stdout(): string;
  stderr(): string;
  /** 'close', not 'exit': the process has ended and its output has been read to the end. */
  closed: Promise<void>;
}

function collect(child: ChildProcess): Collected {
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const closed = new Promise<void>((ok) => child.once('close', () => ok()));
  return { text: () => stdout + stderr, stdout: () => stdout, stderr: () => stderr, closed };
}

async function perform(s: Soak, target: Target): Promise<void> {
  if (target === 'redis') {
    s.o.log?.(`SIGKILL redis-server; down for ${s.o.redisDownMs} ms`);
    await s.redis.kill();
    s.kills.redis++;
    // The outage itself: how long the commands must ride it out.
    await sleep(s.o.redisDownMs);
    await s.redis.start();
    s.o.log?.('redis-server started again on its AOF');
    return;
  }
  s.o.log?.(`SIGKILL work #${target + 1}, started again`);
  await s.children.kill(s.workers[target] as ChildProcess);
  s.kills.work++;
  s.workers[target] = startWork(s);
}

/** Through the fail-fast connection, which throws while Redis is down: undefined then. */
async function batchNow(app: App, id: string) {
  return app.store.getBatch(id).catch(() => undefined);
}

/** Runs the kill schedule while the batch goes on; resolves when it ended, or with false when the API saw nothing for stallSeconds. */
async function follow(s: Soak, batchId: string): Promise<boolean> {
  const schedule = killSchedule(s.o.workers, s.o.killsPerWorker);
  let lastTotal = -1;
  let lastChange = Date.now();
  for (;;) {
    s.children.sample();
    const stats = await simStats(s.sim);
    const progress = callsOf(stats, LAST_STEP_ENDPOINT, (st) => st.startsWith('2')) / s.o.customers;
    while (schedule[0] && progress >= schedule[0].at) await perform(s, (schedule.shift() as { target: Target }).target);
    if ((await batchNow(s.app, batchId))?.ended) return true;
    if (stats.total !== lastTotal) [lastTotal, lastChange] = [stats.total, Date.now()];
    else if (Date.now() - lastChange > s.o.stallSeconds * 1000) return false;
    await sleep(200);
  }
}

async function importOutcome(s: Soak, importer: ChildProcess, out: Collected): Promise<ImportOutcome> {
  const timedOut = await Promise.race([out.closed.then(() => false), sleep(s.o.importGraceMs).then(() => true)]);
  if (timedOut) {
    await s.children.kill(importer, 'SIGTERM');
    return { code: null, printedSummary: false, error: 'did not end after the batch had ended' };
  }
  return {
    code: importer.exitCode,
    printedSummary: /customers onboarded$|rows onboarded$/m.test(out.stdout()),
    error: out.stderr().trim().split('\n')[0] || null,
  };
}

async function outcome(s: Soak, batchId: string, started: number, ended: number) {
  // The store is read once Redis answers again (it may just have been restarted).
  await until(async () => (await s.app.redis.ping().catch(() => undefined)) === 'PONG', 'Redis to answer', 30_000);
  const records = (await s.app.store.batchCustomers(batchId)).map((c) => c.record);
  const state = (await simRequest(s.sim, '/__sim/state')) as SimulatorState;
  const stats = await simStats(s.sim);
  const count = (st: string) => records.filter((r) => r?.state === st).length;
  const is5xx = (st: string) => st.startsWith('5');
  const sum = (pick: (st: string) => boolean) =>
    Object.keys(stats.byEndpoint).reduce((n, e) => n + callsOf(stats, e, pick), 0);
  return {
    done: count('done'),
    failed: count('failed'),
    failures: records
      .filter((r) => r?.state === 'failed')
      .slice(0, 10)
      .map((r) => ({ key: r!.key, step: r!.failedStep ?? '?', reason: r!.error ?? '?' })),
    lost: s.o.customers - records.length + records.filter((r) => !r).length + doneButMissing(state, records),
    stuck: records.filter((r) => r && r.state !== 'done' && r.state !== 'failed').length,
    duplicates: countDuplicates(state),
    unconfirmedEmails: unconfirmedEmails(state, records),
    calls: customerCalls(stats),
    faulted: { serverError: sum(is5xx), tooMany: sum((st) => st === '429'), dropped: sum((st) => st === 'reset') },
    seconds: (ended - started) / 1000,
  };
}

async function measured(s: Soak, callsPerCustomer: number): Promise<SoakReport> {
  await simRequest(s.sim, '/__sim/config', 'PUT', { faults: soakFaults(s.o.rates) });
  await simRequest(s.sim, '/__sim/stats/reset', 'POST');
  const file = writeCsv(s.o.dir, s.o.customers, 'soak', activationColumn(s.o.activation));
  const started = performance.now();
  const importer = s.children.spawn('import', ['import', file, '--wait'], 'pipe');
  const out = collect(importer);
  const batchId = /^batch (\S+)/m.exec(await waitForLine(importer, /^batch \S+/m))?.[1] as string;
  const ended = await follow(s, batchId);
  const endedAt = performance.now();
  const imported = await importOutcome(s, importer, out);
  const found = await outcome(s, batchId, started, endedAt);
  const { o } = s;
  return {
    customers: o.customers,
    ...found,
    stalled: !ended,
    callsPerCustomer,
    rate: o.rateLimit,
    kills: s.kills,
    import: imported,
    peakRssMiB: s.children.peakRssMiB,
    options: {
      latencyMs: o.latencyMs,
      jitterMs: o.jitterMs,
      workers: o.workers,
      concurrency: o.concurrency,
      rates: o.rates,
    },
  };
}

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const redis = await startPrivateRedis();
  const sim = await startSimProcess(['--latency', String(o.latencyMs), '--jitter', String(o.jitterMs)]);
  const prefix = `soak-${randomUUID().slice(0, 8)}`;
  const env = { ...benchEnv(sim, { redisUrl: redis.url, prefix, ...o }), ...o.env };
  const children = new Children(env);
  let app: App | undefined;
  try {
    app = await App.open(loadConfig(env), { logger: createLogger({ level: 'fatal' }) });
    const s: Soak = { o, redis, sim, app, children, workers: [], workerRuns: 0, kills: { work: 0, redis: 0 } };
    s.workers = Array.from({ length: o.workers }, () => startWork(s));
    await waitForWorkers(app, o.workers);
    return await measured(s, await warmUp(s));
  } finally {
    await children.killAll();
    await app?.close().catch(() => undefined);
    sim.stop();
    await redis.destroy();
  }
}
