import type { Command } from 'commander';
import { App } from '../app/app.js';
import { dashboardCredentials } from '../app/dashboard.js';
import { startWorkers, type RunningWorkers } from '../app/workers.js';
import { loadConfig, requireConfig, type Config } from '../config.js';
import { createLogger } from '../logger.js';
import { loggerReport, RedisAvailability } from '../redis/availability.js';
import { listening, listenSettings } from './listen-settings.js';
import { port } from './option-values.js';
import { handleStopSignals, untilStopSignal } from './stop-signal.js';

/**
 * `acronis-onboard serve`: the HTTP server (POST /webhooks/customers, GET /healthz and /readyz,
 * the dashboards and /metrics) and the batch-callback worker, until SIGTERM or SIGINT.
 * `acronis-onboard start`: the same plus the onboarding workers in the same process (a small
 * install, or the demo).
 */
export function registerServeCommands(program: Command): void {
  const listenOptions = (command: Command) =>
    command
      .option('--port <port>', 'port to listen on, instead of PORT (0 = any free port)', port)
      .option('--host <host>', 'address to listen on, instead of HOST');
  listenOptions(
    program
      .command('serve')
      .description('serve the signed webhook, the dashboards and /metrics on HOST:PORT until stopped'),
  ).action((opts: ListenOptions) => run('serve', false, opts));
  listenOptions(
    program
      .command('start')
      .description('serve and work in one process: the webhook server plus WORKER_CONCURRENCY step workers'),
  ).action((opts: ListenOptions) => run('start', true, opts));
}

interface ListenOptions {
  port?: number;
  host?: string;
}

async function run(name: 'serve' | 'start', withWorkers: boolean, opts: ListenOptions): Promise<void> {
  const env = loadConfig();
  const at = listenSettings(opts, env);
  // The options stand in for PORT and HOST everywhere, the sign-in's loopback rule included.
  const config: Config = Object.freeze({ ...env, PORT: at.port.value, HOST: at.host.value });
  // Checked before anything opens, so a missing secret is the first and only complaint.
  requireConfig(config, ['WEBHOOK_SECRET'], 'to serve the webhook');
  const signIn = { credentials: dashboardCredentials(config) };
  const logger = createLogger({ level: config.LOG_LEVEL, pretty: process.stdout.isTTY, name });
  const stop = handleStopSignals(name, config.SHUTDOWN_TIMEOUT_MS);
  // One tracker for both apps: an outage is told once per process.
  const availability = new RedisAvailability(config.REDIS_URL, loggerReport(logger));
  const opening = { logger, availability, waitForRedis: stop };
  // The server's connection fails fast (a 503 rather than a hanging request); the workers' waits.
  const serveApp = await App.open(config, opening);
  const workApp = withWorkers
    ? await App.open(config, { ...opening, role: 'worker' }).catch(closing(serveApp))
    : undefined;
  try {
    const workers = workApp ? await startWorkers(workApp, { retryUntil: stop }) : undefined;
    // Loaded only here, so a `work` process does not carry the HTTP server.
    const { startServer } = await import('../app/server.js');
    const starting = () => startServer(serveApp, { retryUntil: stop, signIn, redisSettingsChecked: withWorkers });
    const server = await listening(at, starting).catch(async (err: unknown) => {
      await workers?.close();
      throw err;
    });
    logger.info({ url: server.url }, 'server started');
    const routes = `POST ${server.url}/webhooks/customers, GET ${server.url}/healthz; dashboards ${server.url}/ and ${server.url}/admin/queues`;
    console.log(`acronis-onboard ${name}: listening on ${server.url} (${routes})${withWorkers ? ' with workers' : ''}`);
    const signal = await untilStopSignal(stop);
    logger.info({ signal }, 'stopping: no new requests; letting in-flight ones and steps finish');
    // Side by side, each within SHUTDOWN_TIMEOUT_MS: the server takes nothing new at once, and a
    // request still enqueueing while the workers stop only leaves jobs in Redis for the next start.
    await Promise.all([
      server.close().then(() => logger.info('server stopped')),
      workers ? stopWorkers(workers, logger) : undefined,
    ]);
  } finally {
    await workApp?.close();
    await serveApp.close();
  }
}

async function stopWorkers(workers: RunningWorkers, logger: App['logger']): Promise<void> {
  const { forced } = await workers.close();
  logger.info({ forced }, 'workers stopped');
}

function closing(app: App) {
  return async (err: unknown): Promise<never> => {
    await app.close();
    throw err;
  };
}
