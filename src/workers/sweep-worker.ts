import { Worker } from 'bullmq';
import type { Logger } from '../logger.js';
import type { RedisAvailability } from '../redis/availability.js';
import type { RedisConnection } from '../redis/connection.js';
import { QUEUE_NAMES } from '../redis/keys.js';
import type { ExclusiveSweepOutcome, SweepOptions } from './exclusive-sweep.js';
import type { SweepJob } from './reconcile-queue.js';

/**
 * Takes the scheduler's `sweep` jobs, one at a time per process; the sweep lease makes it one at
 * a time in the install. The job's return value is the outcome (the summary, or who held the
 * lease), so bull-board and the queue keep what each tick did.
 */
export interface SweepWorkerDeps {
  connection: RedisConnection;
  prefix: string;
  sweep(opts: SweepOptions): Promise<ExclusiveSweepOutcome>;
  logger: Logger;
  availability?: RedisAvailability;
}

export function createSweepWorker(deps: SweepWorkerDeps): Worker<SweepJob, ExclusiveSweepOutcome> {
  const logger = deps.logger.child({ component: 'reconcile' });
  const worker = new Worker<SweepJob, ExclusiveSweepOutcome>(
    QUEUE_NAMES.reconcile,
    async (job) => {
      const outcome = await deps.sweep(job.data.full ? { full: true } : {});
      if (outcome.ran) logger.info({ jobId: job.id, summary: outcome.summary }, 'scheduled sweep done');
      return outcome;
    },
    { connection: deps.connection, prefix: deps.prefix, concurrency: 1, autorun: false },
  );
  worker.on('failed', (job, err) => logger.warn({ jobId: job?.id, err: err.message }, 'scheduled sweep failed'));
  worker.on('error', (err) => {
    if (deps.availability) deps.availability.observe('sweep worker error', err);
    else logger.error({ err: err.message }, 'sweep worker error');
  });
  return worker;
}
