import { Queue, type Job } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { QUEUE_NAMES } from '../redis/keys.js';
import type { SecretBox } from '../secrets/secret-box.js';

/**
 * Batch callbacks (the webhook's `callback_url`) as BullMQ jobs, one per batch: added when the
 * webhook accepts the batch, looked at again while the batch runs, promoted by the worker that
 * finishes its last customer, and retried with BullMQ's attempts and a capped exponential
 * backoff when the receiver fails. `serve` runs the worker that delivers them.
 */
export interface CallbackJob {
  batchId: string;
  /** The callback_url, sealed (it may carry a token in its path or query): see callbackUrlPlace. */
  urlSealed: string;
  /** Scheme, host and port only, for logs. */
  origin: string;
  /** When the webhook accepted the batch; a batch that never ends is given up after MAX_WAIT_MS. */
  registeredAt: string;
}

/**
 * A callback job of a version before the URL was sealed: `url` in clear (its path or query may
 * hold a token), no `urlSealed` nor `origin`. The callback worker gives it up, keeping the origin
 * and wiping the URL.
 */
export interface ClearUrlCallbackJob {
  batchId: string;
  url?: string;
  origin?: string;
  registeredAt: string;
}

export function storedInClear(data: CallbackJob | ClearUrlCallbackJob): data is ClearUrlCallbackJob {
  return typeof (data as Partial<CallbackJob>).urlSealed !== 'string';
}

/** Scheme, host and port of a job's target, the only part of it ever logged. */
export function callbackOrigin(data: CallbackJob | ClearUrlCallbackJob): string {
  if (data.origin) return data.origin;
  const { url } = data as ClearUrlCallbackJob;
  return url !== undefined && URL.canParse(url) ? new URL(url).origin : '(no readable URL)';
}

export type CallbackQueue = Queue<CallbackJob>;

export const CALLBACK_QUEUE = QUEUE_NAMES.callbacks;
/** About 15 hours of failed deliveries, 5 s, 10 s, 20 s … apart, at most an hour, before it is given up. */
export const CALLBACK_ATTEMPTS = 24;
export const CALLBACK_FIRST_RETRY_MS = 5_000;
export const CALLBACK_MAX_RETRY_MS = 3_600_000;
/** The backoff type the callback worker's strategy answers for. */
export const CALLBACK_BACKOFF = 'callback';

/** The same on every attempt, so the receiver can drop a repeat (it is also the X-Delivery-Id). */
export function callbackJobId(batchId: string): string {
  return `callback-${batchId}`;
}

export function callbackRetryDelay(attemptsMade: number, firstRetryMs = CALLBACK_FIRST_RETRY_MS): number {
  return Math.min(firstRetryMs * 2 ** Math.max(0, attemptsMade - 1), CALLBACK_MAX_RETRY_MS);
}

export function createCallbackQueue(connection: RedisConnection, prefix: string): CallbackQueue {
  return new Queue<CallbackJob>(CALLBACK_QUEUE, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: CALLBACK_ATTEMPTS,
      backoff: { type: CALLBACK_BACKOFF },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    },
  });
}

/** Where a batch's sealed callback_url belongs: it opens for that batch only. */
export function callbackUrlPlace(batchId: string): string {
  return JSON.stringify(['callback_url', batchId]);
}

/** The batch's summary goes to `url` once the batch has ended. A second call for the batch changes nothing. */
export async function scheduleCallback(
  queue: CallbackQueue,
  box: SecretBox,
  batchId: string,
  url: string,
): Promise<void> {
  const data = {
    batchId,
    urlSealed: box.seal(url, callbackUrlPlace(batchId)),
    origin: new URL(url).origin,
    registeredAt: new Date().toISOString(),
  };
  await queue.add('batch-callback', data, { jobId: callbackJobId(batchId) });
}

/** The batch has just ended: its callback, waiting for the next look, goes now. */
export async function nudgeCallback(queue: CallbackQueue, batchId: string): Promise<void> {
  const job = await queue.getJob(callbackJobId(batchId));
  // A job being looked at right now re-delays itself; the next look catches the end then.
  if (job && (await job.isDelayed())) await job.promote().catch(() => undefined);
}

/** Batch ids whose callback has not been delivered or given up yet. */
export async function pendingCallbacks(queue: CallbackQueue): Promise<string[]> {
  const jobs: Job<CallbackJob>[] = await queue.getJobs(['waiting', 'delayed', 'active', 'prioritized']);
  return jobs.map((job) => job.data.batchId);
}
