import { Worker } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import type { ChainData, StepName } from '../onboarding/chain.js';
import { reasonOf } from '../onboarding/errors.js';
import type { RedisAvailability } from '../redis/availability.js';
import { SendIntentStore } from './send-intent.js';
import { isActionStep } from '../lifecycle/action.js';
import type { ActionStore } from './action-store.js';
import { runActionJob, type ActionStepJob } from './action-run.js';
import { afterTransition, runStepJob, type StepJob, type StepRunDeps } from './step-run.js';

/**
 * How often a step's run may be cut off (its worker killed, its lock lost while Redis was away)
 * before BullMQ fails the job. Every step is safe to run again, so this only stops a job that
 * itself brings its worker down each time; a fault soak (4 worker kills and a Redis restart)
 * cut some runs off 3 times, which the former limit of 2 turned into failed customers.
 */
export const MAX_STALLS = 5;

/** BullMQ's reason for a job failed by the stalled check. */
const STALLED_TOO_OFTEN = /stalled more than allowable limit/;

/** The BullMQ worker that runs step jobs (each run: step-run.ts). */
export interface StepWorkerDeps extends Omit<StepRunDeps, 'lockDurationMs' | 'maxRateLimitPauseMs' | 'sendIntents'> {
  /** A connection for the worker's blocking commands (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  prefix: string;
  concurrency: number;
  /** ACRONIS_RATE_LIMIT: also bounds how many step jobs start per second. */
  requestsPerSecond: number;
  maxRateLimitPauseMs?: number;
  /** How often a job may be put back by 429s before it counts as failed. */
  maxRateLimitedStarts?: number;
  lockDurationMs?: number;
  /** Absorbs connection errors (one outage, two lines: src/redis/availability.ts); others are logged. */
  availability?: Pick<RedisAvailability, 'observe'>;
  /** Steps running now, for a shutdown that need not wait when there are none. */
  inFlight?: { count: number };
  /** Lifecycle actions' records (docs/lifecycle.md): their step jobs share this queue and worker. */
  actions: ActionStore;
  /** How long an action waiting for its customer's turn sleeps before it looks again. */
  turnWaitMs?: number;
}

export function createStepWorker(deps: StepWorkerDeps): Worker<ChainData, unknown, StepName> {
  const lockDuration = deps.lockDurationMs ?? 30_000;
  const runDeps: StepRunDeps & Pick<StepWorkerDeps, 'actions' | 'turnWaitMs'> = {
    ...deps,
    lockDurationMs: lockDuration,
    sendIntents: new SendIntentStore(deps.connection, deps.queue, lockDuration),
    maxRateLimitPauseMs: deps.maxRateLimitPauseMs ?? 60_000,
  };
  const worker = new Worker<ChainData, unknown, StepName>(
    deps.queue.name,
    async (job, token) => {
      if (deps.inFlight) deps.inFlight.count += 1;
      try {
        // Lifecycle actions run on the same queue: one API budget, one limiter (docs/lifecycle.md).
        if (isActionStep(job.name)) return await runActionJob(runDeps, job as unknown as ActionStepJob, token);
        return await runStepJob(runDeps, job, token);
      } finally {
        if (deps.inFlight) deps.inFlight.count -= 1;
      }
    },
    {
      connection: deps.connection,
      prefix: deps.prefix,
      concurrency: deps.concurrency,
      // The request budget bounds API calls; this bounds job starts to the same order, so jobs
      // do not churn, and makes BullMQ honour queue.rateLimit() (its check needs a limiter max).
      limiter: { max: jobStartsPerSecond(deps.requestsPerSecond, deps.concurrency), duration: 1000 },
      // A 429 puts the job back without counting an attempt; this caps how often.
      maxStartedAttempts: deps.maxRateLimitedStarts ?? 200,
      lockDuration,
      stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
      maxStalledCount: MAX_STALLS,
      autorun: false,
    },
  );
  worker.on('failed', (job, err) => {
    if (job) void failedForGood(runDeps, job, err);
  });
  worker.on('error', (err) => {
    if (deps.availability) deps.availability.observe('worker error', err);
    else deps.logger.error({ err: reasonOf(err) }, 'worker error');
  });
  return worker;
}

/**
 * Backstop: a job can fail for good without its processor deciding (stalled too often, the
 * started-attempts cap); the customer must not stay "running" then.
 */
export async function failedForGood(
  deps: StepRunDeps & Pick<StepWorkerDeps, 'actions'>,
  job: StepJob,
  err: Error,
): Promise<void> {
  try {
    if (isActionStep(job.name)) {
      if (!(await job.isFailed())) return;
      const data = (job as unknown as ActionStepJob).data;
      const { reason } = unfinishedReason(job.name as never, err);
      await deps.actions.finish({ id: data.actionId, customerKey: data.customerKey }, 'failed', { error: reason });
      return;
    }
    if (!(await job.isFailed())) return;
    const record = await deps.store.getCustomer(job.data.customerKey);
    if (!record || record.state === 'failed' || record.state === 'done' || record.runId !== job.data.runId) return;
    // The processor recorded this failure and `retry` already put the customer back (the event
    // comes after the job moved to failed, and a retry can come first): not this failure to record.
    if (record.requeuedAt !== undefined && job.finishedOn !== undefined && record.requeuedAt >= job.finishedOn) return;
    const { reason, retryable } = unfinishedReason(job.name, err);
    const transition = await deps.store.markFailed(
      job.data.customerKey,
      job.name,
      reason,
      retryable,
      undefined,
      job.data.runId,
    );
    await afterTransition(deps, transition, job.data);
  } catch (cause) {
    deps.logger.error({ err: reasonOf(cause) }, 'could not record a failed step');
  }
}

/** Why a job failed without its processor deciding, in words ops can act on. */
export function unfinishedReason(step: StepName, err: Error): { reason: string; retryable: boolean } {
  if (STALLED_TOO_OFTEN.test(err.message)) {
    return {
      reason:
        `${step}: its run was cut off more than ${MAX_STALLS} times (a worker killed or hung, or its lock lost while ` +
        'Redis was away); the step is safe to run again: retry the customer once the workers run steadily',
      retryable: true,
    };
  }
  return { reason: `${step}: ${err.message}`, retryable: false };
}

/**
 * `work` processes whose free slots the limiter lets fill in one second. BullMQ's limiter counts
 * the starts of every process's workers together, in a fixed one-second window, and at the start
 * of an import every free slot takes a first step at once: when the window had room for one
 * process's slots only, two processes' 32 slots used it up at 10/s and the first customer's next
 * steps waited for the next second (BENCHMARKS.md "First customer at 10/s"). More processes than
 * this still fill their slots, within a second or two.
 */
const PROCESSES_FILLED_AT_ONCE = 8;

/** BullMQ's limiter max: twice the request rate, plus the free slots of processes starting together. */
function jobStartsPerSecond(requestsPerSecond: number, concurrency: number): number {
  return Math.ceil(requestsPerSecond * 2) + concurrency * PROCESSES_FILLED_AT_ONCE;
}
