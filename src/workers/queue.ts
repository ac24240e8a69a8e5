import { Queue, type JobsOptions } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import type { ChainData, StepName } from '../onboarding/chain.js';
import { QUEUE_NAMES } from '../redis/keys.js';

/**
 * One queue for every step of a data centre: BullMQ's limiter and `rateLimit` act per queue and
 * cannot be shared across queues (docs/bullmq.md §1.3, bullmq#2679), and one Acronis API budget
 * covers all steps sent there. Steps are told apart by the job name. Each further data centre has
 * a queue of its own (docs/partners.md), so its 429s pause only its own steps.
 */
export const ONBOARDING_QUEUE = QUEUE_NAMES.onboarding;

export type OnboardingQueue = Queue<ChainData, unknown, StepName>;

export interface RetryPolicy {
  /** Attempts per step (STEP_ATTEMPTS). */
  attempts: number;
  /** First back-off delay (STEP_BACKOFF_MS); doubles per attempt, with jitter. */
  backoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 8, backoffMs: 1000 };

export function stepJobOptions(policy: RetryPolicy): JobsOptions {
  return {
    attempts: policy.attempts,
    // Jitter spreads the retries of 350 customers hit by the same outage (docs/bullmq.md §1.5).
    backoff: { type: 'exponential', delay: policy.backoffMs, jitter: 0.5 },
    // Finished step jobs stay visible for two weeks (the dashboard's history); without a
    // bound BullMQ keeps them forever (docs/bullmq.md §1.9).
    removeOnComplete: { age: 14 * 24 * 3600, count: 100_000 },
    removeOnFail: { age: 30 * 24 * 3600, count: 100_000 },
  };
}

/**
 * A chain's first step waits in BullMQ's prioritized set, every later step in the wait list,
 * which workers always take from first (docs/bullmq.md §1.12): a customer that has started
 * runs to its end before new customers start, and a retried later step (back from delayed)
 * also goes ahead of the customers not started yet.
 */
export const FIRST_STEP_PRIORITY = 1;

/**
 * `<customer>.<step>`: readable in the dashboard, the same on every run of the same chain, so
 * adding a step twice is a no-op. BullMQ forbids `:` in ids and digits-only ids
 * (docs/bullmq.md §1.4): the customer key is URI-encoded and prefixed.
 */
export function jobIdFor(customerKey: string, step: StepName): string {
  return `c-${encodeURIComponent(customerKey).replace(/\./g, '%2E')}.${step}`;
}

export function createOnboardingQueue(
  connection: RedisConnection,
  prefix: string,
  policy: RetryPolicy = DEFAULT_RETRY,
  name: string = ONBOARDING_QUEUE,
): OnboardingQueue {
  return new Queue<ChainData, unknown, StepName>(name, {
    connection,
    prefix,
    defaultJobOptions: stepJobOptions(policy),
  });
}
