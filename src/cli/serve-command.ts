import type { Command } from 'commander';
import { loadConfig, requireConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { startServer } from '../server.js';
import { startWorkers, type RunningWorkers } from '../workers/runtime.js';
import { untilStopSignal } from './stop-signal.js';

/**
 * `acronis-onboard serve`: the HTTP server (POST /webhooks/customers, GET /healthz) and the
 * batch-callback loop, until SIGTERM or SIGINT. `acronis-onboard start`: the same plus the
 * onboarding workers in the same process (a small install, or the demo).
 */
export function registerServeCommands(program: Command): void {
  program
    .command('serve')
    .description('serve the signed webhook (POST /webhooks/customers) and GET /healthz on HOST:PORT until stopped')
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
  const logger = createLogger({ level: config.LOG_LEVEL, pretty: process.stdout.isTTY, name });

  let workers: RunningWorkers | undefined;
  if (withWorkers) workers = await startWorkers(config, { logger });
  let server;
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    await workers?.close();
    throw err;
  }
  logger.info({ url: server.url }, 'server started');
  console.log(
    `acronis-onboard ${name}: listening on ${server.url} (POST ${server.url}/webhooks/customers, GET ${server.url}/healthz)${withWorkers ? ' with workers' : ''}`,
  );

  const signal = await untilStopSignal();
  logger.info({ signal }, 'stopping: no new requests; letting in-flight ones finish');
  // The server first, so nothing new is queued; then the workers finish their steps.
  await server.close();
  logger.info('server stopped');
  if (workers) {
    const { forced } = await workers.close();
    logger.info({ forced }, 'workers stopped');
  }
}
