import { AsyncLocalStorage } from 'node:async_hooks';
import type { ApiRequest, RequestThrottle } from '../acronis/transport.js';

/**
 * BullMQ is at-least-once: a job whose lock expired (Redis away longer than the lock, a
 * worker frozen) is taken again as stalled while the first run may still be going. Before
 * each change it sends, a step checks — after waiting for its slot in the request budget,
 * which is where such a run spends a Redis outage — that its job's lock is still its own;
 * if not, the run stops and leaves the step to the run that owns the job now.
 */
export class LockLostError extends Error {
  constructor(readonly jobId: string) {
    super(
      `job ${jobId} is no longer locked by this run (it stalled and runs elsewhere); stopping before the next change`,
    );
    this.name = 'LockLostError';
  }
}

interface JobScope {
  assertLock(): Promise<void>;
}

const scope = new AsyncLocalStorage<JobScope>();

/** Runs a step with its job's lock check in scope of every API call it makes. */
export function runHoldingJobLock<T>(assertLock: () => Promise<void>, step: () => Promise<T>): Promise<T> {
  return scope.run({ assertLock }, step);
}

/** The request budget, plus the lock check before every mutating request made inside a step. */
export class LockGuardedThrottle implements RequestThrottle {
  constructor(private readonly budget: RequestThrottle) {}

  async acquire(signal?: AbortSignal, request?: Pick<ApiRequest, 'method' | 'path'>): Promise<void> {
    await this.budget.acquire(signal, request);
    if (request && request.method !== 'GET') await scope.getStore()?.assertLock();
  }
}
