import { Worker } from 'bullmq';
import type { Logger } from '../logger.js';
import type { RedisAvailability } from '../redis/availability.js';
import type { RedisConnection } from '../redis/connection.js';
import { QUEUE_NAMES } from '../redis/keys.js';
import type { SweepSummary } from '../reconcile/drift.js';
import type { SweepOptions, SweepReport } from '../reconcile/sweep.js';
import type { ExclusiveSweepOutcome } from './exclusive-sweep.js';
import type { SweepJob } from './reconcile-queue.js';

/**
 * Takes the scheduler's `sweep` jobs, one at a time per process; the sweep lease makes it one at
 * a time in the install. The job's return value is the outcome (the summary, or who held the
 * lease), so bull-board and the queue keep what each tick did.
 */
export interface SweepWorkerDeps {
  connection: RedisConnection;
  prefix: string;
  /** A sweep under the lease (App.sweepExclusively). */
  sweep(opts: SweepOptions): Promise<ExclusiveSweepOutcome<SweepReport>>;
  logger: Logger;
  availability?: RedisAvailability;
}

export type SweepWorker = Worker<SweepJob, ExclusiveSweepOutcome<SweepSummary>>;

export function createSweepWorker(deps: SweepWorkerDeps): SweepWorker {
  const logger = deps.logger.child({ component: 'reconcile' });
  const worker: SweepWorker = new Worker(
    QUEUE_NAMES.reconcile,
    async (job) => {
      const outcome = await deps.sweep(job.data.full ? { full: true } : {});
      if (!outcome.ran) return outcome;
      // The job keeps the summary, not every customer's finding (those are in the drift store).
      const { findings: _findings, fixes: _fixes, unknown: _unknown, ...summary } = outcome.report;
      logger.info({ jobId: job.id, summary }, 'scheduled sweep done');
      return { ran: true, report: summary };
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
