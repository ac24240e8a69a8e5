import type { Command } from 'commander';
import { App } from '../app/app.js';
import { dashboardCredentials } from '../app/dashboard.js';
import { startWorkers, type RunningWorkers } from '../app/workers.js';
import { loadConfig, requireConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { loggerReport, RedisAvailability } from '../redis/availability.js';
import { handleStopSignals, untilStopSignal } from './stop-signal.js';

/**
 * `acronis-onboard serve`: the HTTP server (POST /webhooks/customers, GET /healthz and /readyz,
 * the dashboards and /metrics) and the batch-callback worker, until SIGTERM or SIGINT.
 * `acronis-onboard start`: the same plus the onboarding workers in the same process (a small
 * install, or the demo).
 */
export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the signed webhook, the dashboards and /metrics on HOST:PORT until stopped')
    .action(() => run('serve', false));
  program
    .command('start')
    .description('serve and work in one process: the webhook server plus WORKER_CONCURRENCY step workers')
    .action(() => run('start', true));
}

async function run(name: 'serve' | 'start', withWorkers: boolean): Promise<void> {
  const config = loadConfig();
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
    const server = await startServer(serveApp, { retryUntil: stop, signIn }).catch(async (err: unknown) => {
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
