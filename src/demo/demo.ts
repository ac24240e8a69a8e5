import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { App } from '../app/app.js';
import { startServer, type RunningServer } from '../app/server.js';
import { startWorkers } from '../app/workers.js';
import { importAndReport } from '../cli/import-command.js';
import { writeOwnerOnly } from '../cli/owner-only-file.js';
import { redisLostOr } from '../cli/redis-lost.js';
import { handleStopSignals, untilStopSignal } from '../cli/stop-signal.js';
import { tty } from '../cli/terminal-text.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { loggerReport, RedisAvailability, type AvailabilityReport } from '../redis/availability.js';
import { connectOrExplain, createRedis, redactUrl } from '../redis/connection.js';
import { scanKeys } from '../redis/scan.js';
import { untilRedisAnswers } from '../redis/while-away.js';
import { generateSecretsKey } from '../secrets/secret-box.js';
import type { RunningSimulator } from '../simulator/index.js';
import { resultsCsv } from '../workers/results-csv.js';
import { batchResults } from '../workers/results.js';
import { resultsDeps } from '../app/operation-deps.js';
import { demoAdopt } from './demo-adopt.js';
import { demoLifecycle } from './demo-lifecycle.js';
import { demoPartners } from './demo-partners.js';
import { demoReconcile } from './demo-reconcile.js';
import { demoScheduledSweeps } from './demo-drift.js';
import { startDemoSources, type DemoSources } from './demo-sources.js';
import { DemoRefusedError } from './errors.js';
import { findOrStartRedis } from './local-redis.js';
import { RedisKeys } from '../redis/keys.js';
import { plural } from '../text/plural.js';

/**
 * `acronis-onboard demo`: the whole product in one process on a fresh machine — Redis (the one at
 * REDIS_URL, else a private redis-server), the Acronis simulator, the workers and the server —
 * importing the shipped sample of 350 customers, then serving the dashboards until Ctrl-C.
 */
export interface DemoOptions {
  /** Stop once the import has ended (scripts, the test) instead of serving until Ctrl-C. */
  exit: boolean;
  /** Another CSV than the sample; required against a real data centre. */
  csv?: string;
  /** Keep the results file (passwords, agent tokens) when the demo ends; by default it goes with the demo. */
  keepResults?: boolean;
  /** Where the demo's own lines go (what it set up, the results file, the dashboard): the command's stdout. */
  print: (line: string) => void;
}

export const DEMO_CSV = resolve(import.meta.dirname, '../../examples/demo-customers.csv');
/** The simulator starts with this many customers made by hand: the sample's row 151 reuses one's name. */
const HAND_MADE_CUSTOMERS = 3;
/** In-flight steps and requests get this long at the end (the demo's data goes with it anyway). */
const DEMO_DRAIN_MS = 5000;

export async function runDemo(opts: DemoOptions): Promise<number> {
  const env = loadConfig();
  if (env.ACRONIS_BASE_URL && !opts.csv) {
    throw new DemoRefusedError(
      `ACRONIS_BASE_URL is set (${env.ACRONIS_BASE_URL}): the demo does not import its 350 made-up customers into a real data centre; pass --csv FILE, or unset it`,
    );
  }
  const redis = await findOrStartRedis(env.REDIS_URL);
  const sim = env.ACRONIS_BASE_URL ? undefined : await startDemoSimulator();
  // Only against the simulator: a real data centre gets no made-up customers from made-up systems.
  const sources = sim ? await startDemoSources() : undefined;
  try {
    const config = demoConfig(env, redis.url, sim, sources, await freeOr(3000));
    opts.print(describeSetup(config, redis.started, sim, sources));
    return await runStack(config, opts, sources);
  } finally {
    await sources?.close();
    await sim?.close();
    await redis.stop();
  }
}

async function startDemoSimulator(): Promise<RunningSimulator> {
  const { startSimulator } = await import('../simulator/index.js');
  return startSimulator({ seed: 'acronis-onboard-demo', customers: HAND_MADE_CUSTOMERS, latencyMs: 30, jitterMs: 40 });
}

/** The demo's own install: a fresh key prefix (removed at the end), generated secrets, the simulator's credentials. */
function demoConfig(
  env: Config,
  redisUrl: string,
  sim: RunningSimulator | undefined,
  sources: DemoSources | undefined,
  port: number,
): Config {
  const secret = () => randomBytes(18).toString('base64url');
  return loadConfig({
    ...stringsOf(env),
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `demo-${randomBytes(4).toString('hex')}`,
    ...(sim
      ? {
          ACRONIS_BASE_URL: sim.url,
          ACRONIS_CLIENT_ID: sim.seed.clientId,
          ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
          ACRONIS_PARENT_TENANT_ID: sim.seed.partnerTenantId,
          ACRONIS_RATE_LIMIT: '100',
        }
      : {}),
    ...(sources ? { SOURCES_DIR: sources.dir } : {}),
    SECRETS_KEY: env.SECRETS_KEY ?? generateSecretsKey(),
    WEBHOOK_SECRET: env.WEBHOOK_SECRET ?? secret(),
    CALLBACK_SECRET: env.CALLBACK_SECRET ?? secret(),
    DASHBOARD_USER: 'demo',
    DASHBOARD_PASSWORD: secret(),
    HOST: '127.0.0.1',
    PORT: String(port),
    // The summary tells what happened; log lines only when asked for (LOG_LEVEL=warn, debug …).
    LOG_LEVEL: env.LOG_LEVEL === 'info' ? 'silent' : env.LOG_LEVEL,
  });
}

function stringsOf(config: Config): Record<string, string> {
  return Object.fromEntries(
    Object.entries(config).flatMap(([k, v]) =>
      v === undefined ? [] : [[k, Array.isArray(v) ? v.join(',') : String(v)]],
    ),
  );
}

async function runStack(config: Config, opts: DemoOptions, sources: DemoSources | undefined): Promise<number> {
  const logger = createLogger({ level: config.LOG_LEVEL, destination: process.stderr, name: 'demo' });
  // Ctrl-C ends the demo within the workers' 5 s and the margin; a second one at once.
  const stop = handleStopSignals('demo', DEMO_DRAIN_MS);
  const availability = new RedisAvailability(config.REDIS_URL, outageReport(logger));
  const workApp = await App.open(config, { logger, role: 'worker', availability });
  const serveApp = await App.open(config, { logger, availability });
  try {
    const workers = await startWorkers(workApp);
    // The workers are stopped however the rest ends, a server that could not start included.
    const server = await startServer(serveApp, {
      redisSettingsChecked: true,
      // A write-back waiting on a customer still running looks again soon: the demo is watched.
      sources: { writeBackRecheckMs: 1000, ...(sources ? { secretEnv: sources.secretEnv } : {}) },
    }).catch(async (err: unknown) => {
      await workers.close(DEMO_DRAIN_MS);
      throw err;
    });
    let resultsFile: string | undefined;
    try {
      // While the CSV batch runs, each simulated sales/PSA system sends one customer (demo-sources.ts).
      sources?.feed(server.url);
      const code = await importAndReport(server.producer, opts.csv ?? DEMO_CSV, {
        wait: true,
        hints: false,
        stop,
        redisAway: () => availability.isDown,
      });
      if (code === 2 || stop.aborted) return code;
      resultsFile = await writeResultsFile(serveApp, opts, stop);
      if (stop.aborted) return 0;
      if (sources) {
        for (const line of await sources.settle(server.sources.store, stop)) opts.print(line);
        if (stop.aborted) return 0;
      }
      const [suspend, offboard, drifted] = await onboardedFromCsv(serveApp, 3);
      if (suspend && offboard) await demoLifecycle(serveApp, { suspend, offboard }, opts.print, stop);
      // `sources` exist only with the simulator: a real partner's tenants are not the demo's to adopt.
      if (sources && !stop.aborted) await demoAdopt(serveApp, opts.print, stop);
      if (drifted && !stop.aborted) await demoReconcile(serveApp, drifted, opts.print, stop);
      if (sources && !stop.aborted) await demoPartners(serveApp, opts.print, stop);
      if (stop.aborted) return 0;
      printEnd(server, config, opts.print);
      await demoScheduledSweeps(workApp, server.url, opts.print);
      if (!opts.exit) await untilStopSignal(stop);
      return 0;
    } finally {
      await Promise.all([server.close(DEMO_DRAIN_MS), workers.close(DEMO_DRAIN_MS)]);
      // It holds passwords and tokens: it goes with the demo unless asked to stay.
      if (resultsFile && !opts.keepResults) await rm(resultsFile, { force: true });
    }
  } catch (err) {
    throw redisLostOr(err, config.REDIS_URL);
  } finally {
    await workApp.close();
    await serveApp.close();
    await removeInstall(config);
  }
}

/**
 * A Redis outage is told on stderr, once each way, as `import --wait` tells it: at the default
 * LOG_LEVEL the demo's logger is silent, and through it the outage would go unsaid (docs/resilience.md).
 */
function outageReport(logger: Logger): AvailabilityReport {
  return {
    ...loggerReport(logger),
    down: (message) => console.error(tty`warning: ${message}`),
    up: (message) => console.error(tty`${message}`),
  };
}

/**
 * The batch's results in a file only its owner may read; its path, or undefined without a batch.
 * Read as the import's summary is: across an outage that came just as the batch ended.
 */
async function writeResultsFile(app: App, opts: DemoOptions, stop: AbortSignal): Promise<string | undefined> {
  const results = await untilRedisAnswers(() => lastBatchResults(app), { signal: stop });
  if (!results || stop.aborted) return undefined;
  const file = join(tmpdir(), `acronis-onboard-demo-${results.batch.id}.csv`);
  await writeOwnerOnly(file, resultsCsv(results.rows));
  const fate = opts.keepResults ? 'kept' : 'removed when the demo ends; --keep-results keeps it';
  opts.print(`results (ids, logins, agent tokens, install commands): ${file} (${fate})`);
  return file;
}

function printEnd(server: RunningServer, config: Config, print: DemoOptions['print']): void {
  print(`dashboard: ${server.url}/  (user ${config.DASHBOARD_USER}, password ${config.DASHBOARD_PASSWORD})`);
  print(`queues:    ${server.url}/admin/queues`);
  if (config.SOURCES_DIR) print(`sources:   ${server.url}/sources`);
  print(`lifecycle: ${server.url}/lifecycle  (pending deletions)`);
}

/** The keys of the first `n` customers of the CSV's batch that were onboarded. */
async function onboardedFromCsv(app: App, n: number): Promise<string[]> {
  const batch = (await app.store.listBatches(10)).find((b) => b.source === 'csv');
  if (!batch) return [];
  const customers = await app.store.batchCustomers(batch.id);
  return customers
    .filter((c) => c.record?.state === 'done')
    .map((c) => c.key)
    .slice(0, n);
}

/** The CSV's batch: the sources' customers come in batches of their own, which may be newer. */
async function lastBatchResults(app: App) {
  const batch = (await app.store.listBatches(10)).find((b) => b.source === 'csv');
  return batch ? { batch, rows: await batchResults(resultsDeps(app), batch.id) } : undefined;
}

function describeSetup(
  config: Config,
  startedRedis: boolean,
  sim: RunningSimulator | undefined,
  sources: DemoSources | undefined,
): string {
  const redis = startedRedis
    ? `a redis-server of its own (${redactUrl(config.REDIS_URL)}, stopped at the end)`
    : redactUrl(config.REDIS_URL);
  const api = sim
    ? `API simulator at ${sim.url} (it holds ${plural(HAND_MADE_CUSTOMERS, 'customer')} made by hand; one row reuses a name of theirs and fails on purpose)`
    : `data centre ${config.ACRONIS_BASE_URL}`;
  const lines = [
    `demo: Redis ${redis}, key prefix ${config.QUEUE_PREFIX} (removed at the end)`,
    `demo: Acronis ${api}`,
  ];
  if (sources)
    lines.push(
      `demo: sources: a simulated HubSpot, ConnectWise, Pipedrive, Salesforce and Autotask PSA, SOURCES_DIR ${sources.dir} (removed at the end); while the CSV runs, a deal is won in HubSpot and in Pipedrive, an agreement added in ConnectWise, an opportunity won in Salesforce and a company made a Customer in Autotask`,
    );
  return lines.join('\n');
}

/** `preferred` when nothing listens on it, else a port the system picks. */
function freeOr(preferred: number): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(0));
    probe.listen(preferred, '127.0.0.1', () => probe.close(() => resolve(preferred)));
  });
}

/** The demo's keys go with it, once nothing writes them any more: a second run starts afresh. */
async function removeInstall(config: Config): Promise<void> {
  const redis = await connectOrExplain(createRedis(config.REDIS_URL, 'fail-fast'), config.REDIS_URL);
  try {
    const pattern = new RedisKeys(config.QUEUE_PREFIX).installPattern;
    for await (const keys of scanKeys(redis, pattern, 1000)) await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}
