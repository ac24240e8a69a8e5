import type { StepName } from '../onboarding/chain.js';
import type { OnboardingStore } from './onboarding-store.js';
import { jobIdFor, type OnboardingQueue } from './queue.js';

export interface RetryDeps {
  queue: OnboardingQueue;
  store: OnboardingStore;
}

export type RetryOutcome =
  | { key: string; outcome: 'retried'; step: string }
  | { key: string; outcome: 'not-failed'; state: string }
  | { key: string; outcome: 'unknown' }
  | { key: string; outcome: 'job-gone'; step: string };

/**
 * `retry CUSTOMER`: the failed step's own job goes back to the queue with fresh attempts.
 * Steps that completed are not run again — the chain resumes where it stopped.
 */
export async function retryCustomer(pipeline: RetryDeps, key: string): Promise<RetryOutcome> {
  const record = await pipeline.store.getCustomer(key);
  if (!record) return { key, outcome: 'unknown' };
  if (record.state !== 'failed' || !record.failedStep) return { key, outcome: 'not-failed', state: record.state };
  const step = record.failedStep as StepName;
  const job = await pipeline.queue.getJob(jobIdFor(key, step));
  if (!job || !(await job.isFailed())) return { key, outcome: 'job-gone', step };
  const moved = await pipeline.store.markRequeued(key);
  if (!moved.applied) return { key, outcome: 'not-failed', state: moved.previous ?? 'unknown' };
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return { key, outcome: 'retried', step };
}

/** `retry BATCH`: every customer of the batch that is failed now. */
export async function retryBatch(pipeline: RetryDeps, batchId: string): Promise<RetryOutcome[]> {
  const outcomes: RetryOutcome[] = [];
  for (const { key, record } of await pipeline.store.batchCustomers(batchId)) {
    if (record?.state === 'failed' && record.batchId === batchId) outcomes.push(await retryCustomer(pipeline, key));
  }
  return outcomes;
}
