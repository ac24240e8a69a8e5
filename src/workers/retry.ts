import type { StepName } from '../onboarding/chain.js';
import type { NeedsChange } from '../onboarding/errors.js';
import type { OnboardingStore } from './onboarding-store.js';
import { jobIdFor, type OnboardingQueue } from './queue.js';

export interface RetryDeps {
  store: OnboardingStore;
  /** The step queue of the customer's data centre (its record's `partner`; none: the default partner's). */
  queueFor(partner: string | undefined): OnboardingQueue;
}

export interface RetryOptions {
  /** Queue a conflict failure anyway: an operator removed what it collided with. */
  force?: boolean;
}

/** Where the customer came from, so the resubmit step names the file or the feed. */
export interface Submission {
  source: string;
  label: string;
}

export type RetryOutcome =
  | { key: string; outcome: 'retried'; step: string }
  | { key: string; outcome: 'needs-change'; step: string; change: NeedsChange; submission: Submission }
  | { key: string; outcome: 'not-failed'; state: string }
  | { key: string; outcome: 'unknown' }
  | { key: string; outcome: 'job-gone'; step: string };

/**
 * `retry CUSTOMER`: the failed step's own job goes back to the queue with fresh attempts.
 * Steps that completed are not run again — the chain resumes where it stopped. A conflict
 * (name or login owned elsewhere) would only fail again the same way, so it is not queued
 * unless forced; the customer has to be resubmitted with the change.
 */
export async function retryCustomer(pipeline: RetryDeps, key: string, opts: RetryOptions = {}): Promise<RetryOutcome> {
  const record = await pipeline.store.getCustomer(key);
  if (!record) return { key, outcome: 'unknown' };
  if (record.state !== 'failed' || !record.failedStep) return { key, outcome: 'not-failed', state: record.state };
  const step = record.failedStep as StepName;
  if (record.needsChange && !opts.force) {
    const batch = await pipeline.store.getBatch(record.batchId);
    const submission = { source: batch?.source ?? 'unknown', label: batch?.label ?? '' };
    return { key, outcome: 'needs-change', step, change: record.needsChange, submission };
  }
  const job = await pipeline.queueFor(record.partner).getJob(jobIdFor(key, step));
  if (!job || !(await job.isFailed())) return { key, outcome: 'job-gone', step };
  const moved = await pipeline.store.markRequeued(key);
  if (!moved.applied) return { key, outcome: 'not-failed', state: moved.previous ?? 'unknown' };
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return { key, outcome: 'retried', step };
}

/** `retry BATCH`: every customer of the batch that is failed now. */
export async function retryBatch(
  pipeline: RetryDeps,
  batchId: string,
  opts: RetryOptions = {},
): Promise<RetryOutcome[]> {
  const outcomes: RetryOutcome[] = [];
  for (const { key, record } of await pipeline.store.batchCustomers(batchId)) {
    if (record?.state === 'failed' && record.batchId === batchId)
      outcomes.push(await retryCustomer(pipeline, key, opts));
  }
  return outcomes;
}
