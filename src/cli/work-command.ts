import type { Command } from 'commander';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { startWorkers } from '../workers/runtime.js';
import { untilStopSignal } from './stop-signal.js';

/**
 * `acronis-onboard work`: runs step workers until SIGTERM or SIGINT, then stops taking jobs
 * and gives in-flight steps SHUTDOWN_TIMEOUT_MS to finish (a stopped step runs again on
 * another worker: every step is idempotent).
 */
export function registerWorkCommand(program: Command): void {
  program
    .command('work')
    .description('run the onboarding workers (WORKER_CONCURRENCY step jobs at a time) until stopped')
    .action(async () => {
      const config = loadConfig();
      const logger = createLogger({ level: config.LOG_LEVEL, pretty: process.stdout.isTTY, name: 'work' });
      const running = await startWorkers(config, { logger });
      const signal = await untilStopSignal();
      logger.info({ signal }, 'stopping: no new jobs; letting in-flight steps finish');
      const { forced } = await running.close();
      logger.info({ forced }, 'workers stopped');
    });
}
