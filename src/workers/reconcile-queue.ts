import { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { QUEUE_NAMES } from '../redis/keys.js';

/**
 * The scheduled sweeps (docs/reconcile.md "Scheduled sweeps"): one BullMQ job scheduler, whatever
 * the number of `work` processes that register it (a scheduler is one per id, and upserting it
 * again with the same interval keeps its next run), making one `sweep` job per interval.
 */
export interface SweepJob {
  /** Also ask the usages of customers already seen with an agent. */
  full?: boolean;
}
export type ReconcileQueue = Queue<SweepJob>;

export const SWEEP_SCHEDULER_ID = 'reconcile-sweep';
export const SWEEP_JOB = 'sweep';
/** A sweep that failed (the API away) tries again a minute later, then at the next interval. */
const SWEEP_ATTEMPTS = 3;

export function createReconcileQueue(connection: RedisConnection, prefix: string): ReconcileQueue {
  return new Queue<SweepJob>(QUEUE_NAMES.reconcile, { connection, prefix });
}

/**
 * Registers the one sweep scheduler every `everyMs`, or removes it with 0 (RECONCILE_EVERY=0 stops
 * the sweeps of every process once one has started with it). A scheduler registered for the first
 * time runs one interval later, not at once: starting `work` does not cost a sweep; `reconcile`
 * runs one when it is wanted.
 */
export async function scheduleSweeps(queue: ReconcileQueue, everyMs: number): Promise<void> {
  if (everyMs === 0) {
    await queue.removeJobScheduler(SWEEP_SCHEDULER_ID);
    return;
  }
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: everyMs, startDate: Date.now() + everyMs },
    {
      name: SWEEP_JOB,
      data: {},
      opts: {
        attempts: SWEEP_ATTEMPTS,
        backoff: { type: 'exponential', delay: 60_000 },
        removeOnComplete: { count: 100 },
        removeOnFail: { count: 100 },
      },
    },
  );
}
