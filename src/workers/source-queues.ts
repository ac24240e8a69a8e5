import { Queue } from 'bullmq';
import { createHash } from 'node:crypto';
import type { RedisConnection } from '../redis/connection.js';
import { QUEUE_NAMES } from '../redis/keys.js';
import type { SourceEvent } from '../sources/kind.js';

/**
 * The two queues of the sources (docs/sources.md "Answer fast, then work"): `intake`, one job per
 * recorded event (read back, trigger, mapping, enqueue), and `write-backs`, one job per customer
 * a source started, waiting until the customer is done or failed and then writing the result back
 * to the source's record. Both retry with BullMQ's attempts and an exponential backoff.
 */
export interface IntakeJob {
  source: string;
  eventHash: string;
  event: SourceEvent;
}

export interface WriteBackJob {
  source: string;
  customerKey: string;
  target: { objectType: string; objectId: string };
  /** When the intake scheduled it; a customer that never settles is given up after a week. */
  registeredAt: string;
}

export type IntakeQueue = Queue<IntakeJob>;
export type WriteBackQueue = Queue<WriteBackJob>;

/** About 2 hours of a source API that fails, 2 s, 4 s, … apart, before the event is `failed`. */
export const INTAKE_ATTEMPTS = 12;
export const WRITE_BACK_ATTEMPTS = 12;
const keep = { removeOnComplete: { age: 7 * 24 * 3600 }, removeOnFail: { age: 30 * 24 * 3600 } };

export function createIntakeQueue(connection: RedisConnection, prefix: string): IntakeQueue {
  return new Queue<IntakeJob>(QUEUE_NAMES.intake, {
    connection,
    prefix,
    defaultJobOptions: { attempts: INTAKE_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, ...keep },
  });
}

export function createWriteBackQueue(connection: RedisConnection, prefix: string): WriteBackQueue {
  return new Queue<WriteBackJob>(QUEUE_NAMES.writeBacks, {
    connection,
    prefix,
    defaultJobOptions: { attempts: WRITE_BACK_ATTEMPTS, backoff: { type: 'exponential', delay: 2000 }, ...keep },
  });
}

/** BullMQ job ids may not hold `:`; customer keys do (`<source>:<id>`), so ids are hashes. */
const idPart = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 32);

export function intakeJobId(source: string, eventHash: string): string {
  return `intake-${source}-${eventHash}`;
}

/** One write-back per chain a source started: the batch tells a resubmission's chain from the first. */
export function writeBackJobId(customerKey: string, batchId: string): string {
  return `wb-${idPart(customerKey)}-${batchId}`;
}

/**
 * A step worker ended the customer's chain: its write-back, waiting for the next look, goes now.
 * One that had already written an earlier end (the customer failed, then the operator's `retry`
 * completed it) runs again: it reads the customer afresh, and each kind's write is idempotent.
 * A job's own retry or promotion racing this one loses harmlessly: the job runs once either way.
 */
export async function nudgeWriteBack(queue: WriteBackQueue, customerKey: string, batchId: string): Promise<void> {
  const job = await queue.getJob(writeBackJobId(customerKey, batchId));
  if (!job) return;
  const state = await job.getState();
  if (state === 'delayed') await job.promote().catch(() => undefined);
  else if (state === 'completed' || state === 'failed')
    await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => undefined);
}
