import type { Command } from 'commander';
import { startWorkers } from '../app/workers.js';
import { createLogger } from '../logger.js';
import { untilStopSignal } from './stop-signal.js';
import { withApp } from './with-app.js';

/**
 * `acronis-onboard work`: runs step workers until SIGTERM or SIGINT, then stops taking jobs
 * and gives in-flight steps SHUTDOWN_TIMEOUT_MS to finish (a stopped step runs again on
 * another worker: every step is idempotent). It waits for Redis and the API at start, and
 * rides out a Redis outage (docs/resilience.md).
 */
export function registerWorkCommand(program: Command): void {
  program
    .command('work')
    .description('run the onboarding workers (WORKER_CONCURRENCY step jobs at a time) until stopped')
    .action(() =>
      withApp(
        {
          role: 'worker',
          logger: (c) => createLogger({ level: c.LOG_LEVEL, pretty: process.stdout.isTTY, name: 'work' }),
          untilStopped: 'work',
        },
        async (app, stop) => {
          const running = await startWorkers(app, { retryUntil: stop });
          const signal = await untilStopSignal(stop);
          app.logger.info({ signal }, 'stopping: no new jobs; letting in-flight steps finish');
          const { forced } = await running.close();
          app.logger.info({ forced }, 'workers stopped');
        },
      ),
    );
}
