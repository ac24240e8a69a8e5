/**
 * `npm run bench:lifecycle`: lifecycle actions at the API's limit (BENCHMARKS.md "Lifecycle
 * actions at the API's limit"). Customers are onboarded first (not measured), then, each phase
 * measured on its own: their quotas changed (`change` with a profile whose quota differs), all
 * suspended, all resumed. Per phase: wall time, API calls per customer by endpoint, requests per
 * second and their share of the limit, and the Redis commands per action (all processes' commands
 * on a private redis-server, less the bench's own polling).
 *
 *   apart     (default) as `bench:onboard` runs: the simulator in its own process (80 ± 40 ms,
 *             limited to the rate), two `acronis-onboard work` processes × 16
 *   together  the simulator and one set of 32 workers in this process (the first measurement)
 *
 * Before the phases, the work processes run each action once on a few customers of their own
 * (WARM_UP, not measured; `--cold` leaves it out): a work process's first action of a kind loads
 * and compiles its code paths (~40 ms once per process), which a long-running install pays once
 * and a 7.5-s phase would otherwise count as half a point of its share of the limit.
 *
 *   npm run bench:lifecycle -- [customers] [rate] [apart|together] [--cold] [--warm-up=N] [--order=change,suspend,resume]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { App } from '../src/app/app.js';
import { startWorkers } from '../src/app/workers.js';
import { loadConfig } from '../src/config.js';
import type { ActionName, ActionParams, Requester } from '../src/lifecycle/action.js';
import { createLogger } from '../src/logger.js';
import { parseProfile, STANDARD_PROFILE } from '../src/onboarding/profile.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { startSimulator } from '../src/simulator/index.js';
import { batchEnded } from '../src/workers/action-store.js';
import { checkActions, enqueueActions } from '../src/workers/enqueue-action.js';
import { enqueueCustomers } from '../src/workers/enqueue.js';
import { startPrivateRedis } from '../test/helpers/redis-server.js';
import { benchEnv, stop, waitForWorkers, type SimStats } from './pipeline-run.js';
import { startSimProcess } from './sim-process.js';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const customers = Number(positional[0] ?? 350);
const rate = Number(positional[1] ?? 100);
const mode = positional[2] === 'together' ? 'together' : 'apart';
const cold = process.argv.includes('--cold');
const option = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** Customers of the warm-up only: onboarded with the rest, each action run on them before the phases. */
const WARM_UP = cold ? 0 : Number(option('warm-up') ?? 5);
/** The measured phases, in this order (`--order=suspend,change,resume`: which one runs first matters, BENCHMARKS.md). */
const ORDER = (option('order') ?? 'change,suspend,resume').split(',');
if (ORDER.length !== 3 || !['change', 'suspend', 'resume'].every((a) => ORDER.includes(a)))
  throw new Error(`--order names change, suspend and resume once each, not "${ORDER.join(',')}"`);
const BENCH: Requester = { kind: 'operator', label: 'bench' };
const ROOT = resolve(import.meta.dirname, '..');
const POLL_MS = 250;

/** What a phase needs of the world it runs in, whichever the mode. */
interface Setup {
  producer: App;
  partnerTenantId: string;
  stats(): Promise<SimStats>;
  resetStats(): Promise<void>;
  close(): Promise<void>;
}

// A private Redis without persistence: its command counts are this run's alone.
const redisServer = await startPrivateRedis(['--appendonly', 'no']);
const redis = new Redis(redisServer.url);
const logger = createLogger({ level: 'warn' });

async function together(): Promise<Setup> {
  const sim = await startSimulator({ latencyMs: 80, jitterMs: 40, rateLimit: rate });
  const config = loadConfig({
    REDIS_URL: redisServer.url,
    QUEUE_PREFIX: `bench-lifecycle-${randomUUID().slice(0, 8)}`,
    ACRONIS_BASE_URL: sim.url,
    ACRONIS_CLIENT_ID: sim.seed.clientId,
    ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
    SECRETS_KEY: generateSecretsKey(),
    ACRONIS_RATE_LIMIT: String(rate),
    WORKER_CONCURRENCY: '32',
    LOG_LEVEL: 'warn',
  });
  const producer = await App.open(config, { logger });
  const workerApp = await App.open(config, { logger, role: 'worker' });
  const workers = await startWorkers(workerApp, { profile: STANDARD_PROFILE });
  return {
    producer,
    partnerTenantId: sim.seed.partnerTenantId,
    stats: async () => sim.stats(),
    resetStats: async () => sim.resetStats(),
    close: async () => {
      await workers.close(2000);
      await workerApp.close();
      await producer.close();
      await sim.close();
    },
  };
}

async function apart(): Promise<Setup> {
  const sim = await startSimProcess(['--latency', '80', '--jitter', '40', '--rate-limit', String(rate)]);
  const base = sim.vars.ACRONIS_BASE_URL as string;
  const prefix = `bench-lifecycle-${randomUUID().slice(0, 8)}`;
  const env = benchEnv(sim, { redisUrl: redisServer.url, prefix, rateLimit: rate, concurrency: 16 });
  const producer = await App.open(loadConfig(env), { logger });
  const work: ChildProcess[] = [0, 1].map(() =>
    spawn(join(ROOT, 'bin/acronis-onboard.js'), ['work'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'inherit'] }),
  );
  await waitForWorkers(producer, work.length);
  const seed = (await (await fetch(`${base}/__sim/seed`)).json()) as { partnerTenantId: string };
  return {
    producer,
    partnerTenantId: seed.partnerTenantId,
    stats: async () => (await (await fetch(`${base}/__sim/stats`)).json()) as SimStats,
    resetStats: async () => void (await fetch(`${base}/__sim/stats/reset`, { method: 'POST' })),
    close: async () => {
      await Promise.all(work.map((w) => stop(w)));
      await producer.close();
      sim.stop();
    },
  };
}

async function redisCommands(): Promise<number> {
  const info = await redis.info('stats');
  return Number(/total_commands_processed:(\d+)/.exec(info)?.[1] ?? 0);
}

function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC`;
}

async function onboard(setup: Setup): Promise<string[]> {
  const requests = Array.from({ length: customers + WARM_UP }, (_, i) => ({
    name: `Bench Customer ${i + 1}`,
    email: `admin${i + 1}@bench-customer.example`,
    external_id: `bench-${i + 1}`,
  }));
  const { producer } = setup;
  const deps = {
    queue: producer.queue,
    store: producer.store,
    box: producer.box,
    profile: STANDARD_PROFILE,
    partnerTenantId: setup.partnerTenantId,
  };
  const { batch } = await enqueueCustomers(deps, { source: 'bench', label: 'onboard' }, requests);
  while (!(await producer.store.getBatch(batch.id))?.ended) await sleep(250);
  return requests.map((r) => r.external_id);
}

/** Requests per second while 10 % to 90 % of the actions ended: the pace without the ramp at either end. */
function sustained(series: readonly [number, number, number][], total: number): number {
  const from = series.find(([, ended]) => ended >= total * 0.1);
  const to = series.find(([, ended]) => ended >= total * 0.9);
  if (!from || !to || to[0] <= from[0]) return Number.NaN;
  return (to[2] - from[2]) / (to[0] - from[0]);
}

async function phase(
  setup: Setup,
  action: ActionName,
  keys: string[],
  params: ActionParams,
  warmUp = false,
): Promise<void> {
  const { producer, partnerTenantId } = setup;
  const deps = { queue: producer.queue, store: producer.store, actions: producer.actions, partnerTenantId };
  const requests = keys.map((customer) => ({ customer, action, params, requester: BENCH }));
  const { accepted, problems } = await checkActions(deps, requests);
  if (problems.length > 0) throw new Error(`refused: ${problems[0]?.reason}`);
  await setup.resetStats();
  const commandsBefore = await redisCommands();
  const started = Date.now();
  const queued = await enqueueActions(deps, { action, source: 'bench', label: action }, accepted);
  let actions;
  let polls = 0;
  // [seconds, actions ended, API requests at the simulator] at each poll.
  const series: [number, number, number][] = [];
  for (;;) {
    polls++;
    actions = await producer.actions.batchActions(queued.batchId);
    const ended = actions.filter((a) => ['done', 'failed'].includes(a.state)).length;
    series.push([(Date.now() - started) / 1000, ended, (await setup.stats()).total]);
    if (batchEnded(actions)) break;
    await sleep(POLL_MS);
  }
  // The phase ends when its last action ended (its record's finishedAt, stamped by the worker), not
  // when a poll noticed it: the poll's period would count up to 250 ms of nothing against the pace.
  if (warmUp) return;
  const lastEnded = Math.max(...actions.map((a) => Date.parse(a.finishedAt ?? '') || Date.now()));
  const seconds = (lastEnded - started) / 1000;
  // The bench's own reads: per poll, the batch's list and one HGETALL per action; and the INFO calls.
  // (Its polls read the simulator's stats too: in `together` mode, in the workers' process.)
  const commands = (await redisCommands()) - commandsBefore - polls * (1 + keys.length) - 2;
  const stats = await setup.stats();
  const api = stats.total - stats.tokenIssues;
  const perSecond = api / seconds;
  const byEndpoint = Object.entries(stats.byEndpoint)
    .filter(([endpoint]) => endpoint !== 'POST /idp/token')
    .map(
      ([endpoint, byStatus]) =>
        `${endpoint} ${(Object.values(byStatus).reduce((a, b) => a + b, 0) / keys.length).toFixed(2)}`,
    )
    .join(', ');
  const failed = actions.filter((a) => a.state !== 'done').length;
  const steady = sustained(series, keys.length);
  // Where the phase's time goes besides the requests: before the first arrived, and after the last.
  const before = stats.firstArrivalAt ? ((stats.firstArrivalAt - started) / 1000).toFixed(2) : '?';
  const after = stats.lastArrivalAt ? ((lastEnded - stats.lastArrivalAt) / 1000).toFixed(2) : '?';
  console.log(
    `| ${action} | ${keys.length} | ${failed} | ${seconds.toFixed(1)} s | ${(api / keys.length).toFixed(2)} | ${perSecond.toFixed(1)} (${Math.round((100 * perSecond) / rate)} %) | ${steady.toFixed(1)} (${Math.round((100 * steady) / rate)} %) | ${stats.maxRequestsPerSecond} | ${Math.round(commands / keys.length)} | ${before} s / ${after} s | ${byEndpoint} | ${loadavg()[0]?.toFixed(1)} |`,
  );
}

const setup = mode === 'apart' ? await apart() : await together();
try {
  console.log(
    `mode ${mode}; machine: ${machine()}; load average before: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const onboarded = await onboard(setup);
  const keys = onboarded.slice(0, customers);
  const warmKeys = onboarded.slice(customers);
  console.log(
    `\n${customers} customers onboarded; ACRONIS_RATE_LIMIT=${rate}, simulator 80 ± 40 ms limited to ${rate}/s; ${
      warmKeys.length > 0
        ? `each action run first on ${warmKeys.length} others (warm-up, not measured)`
        : 'no warm-up (--cold)'
    }\n`,
  );
  console.log(
    '| action | customers | not done | wall | API calls/customer | requests/s (of limit) | 10–90 % of actions (of limit) | peak 1 s at sim | Redis commands/action | first request / after the last | calls/customer by endpoint | load avg after |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  const moreSeats = parseProfile(
    {
      ...STANDARD_PROFILE,
      name: 'more-seats',
      offering_items: { ...STANDARD_PROFILE.offering_items, quotas: { workstations: { value: 80, overage: 5 } } },
    },
    'bench',
  );
  if (warmKeys.length > 0)
    for (const [action, params] of [
      ['change', { profile: moreSeats }],
      ['suspend', {}],
      ['resume', {}],
    ] as const)
      await phase(setup, action, warmKeys, params, true);
  for (const action of ORDER) {
    if (action === 'change') await phase(setup, 'change', keys, { profile: moreSeats });
    else await phase(setup, action as 'suspend' | 'resume', keys, {});
  }
} finally {
  await setup.close();
  redis.disconnect();
  await redisServer.destroy();
}
