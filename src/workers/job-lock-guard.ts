import { AsyncLocalStorage } from 'node:async_hooks';
import type { SlotRequest } from '../acronis/request-budget.js';
import { TOKEN_PATH } from '../acronis/auth.js';
import type { ApiRequest, RequestThrottle } from '../acronis/transport.js';

/**
 * BullMQ is at-least-once: a job whose lock expired (Redis away longer than the lock, a
 * worker frozen) is taken again as stalled while the first run may still be going. Before
 * each change it sends, a step checks — once the request budget has reserved its slot, which
 * is where such a run spends a Redis outage — that its job's lock is still its own; if not,
 * the run stops and leaves the step to the run that owns the job now. (A run frozen while it
 * waits for the slot wakes late, gives the slot up and is checked again with the next one.)
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
  /** The step's rank in the request budget: steps left in its chain, so customers near their end go first. */
  rank: number;
  /** Set by {@link announceAtSend}: written before the next change goes out, once. */
  announcement?: { write(): Promise<void>; written: boolean };
}

const scope = new AsyncLocalStorage<JobScope>();

/** Runs a step with its job's lock check and its rank in scope of every API call it makes. */
export function runInJobScope<T>(job: JobScope, step: () => Promise<T>): Promise<T> {
  return scope.run(job, step);
}

/**
 * Runs `send` with `announce` (a write-ahead intent) written as late as it can be: once the
 * change `send` makes has passed the job's lock check and its request slot is due, right before
 * it goes out (one Redis write between the slot and the send). A wait for the slot can be long (a
 * 429 pauses everyone), and a run cut off there (its lock lost in a Redis outage, its worker
 * killed) then leaves no intent for a change it never sent, which for a send that cannot be looked
 * up afterwards (the activation e-mail) would read as "maybe sent" and never be sent.
 * `announce` checks the lock itself, in the same Redis call as the write, and throws
 * LockLostError when the job is no longer this run's (src/workers/send-intent.ts): a check of
 * its own after the write would leave an intent behind whenever it failed.
 * Outside a step (no lock, no budget rank) the intent is written first.
 */
export function announceAtSend<T>(announce: () => Promise<void>, send: () => Promise<T>): Promise<T> {
  const job = scope.getStore();
  if (!job) return announce().then(send);
  return scope.run({ ...job, announcement: { write: announce, written: false } }, send);
}

/** The announcement of the change about to be sent, if the step made one, once its slot is due. */
async function announce(job: JobScope, request: Pick<ApiRequest, 'path'>): Promise<void> {
  const announcement = job.announcement;
  // The token issue a change may need first is not the change announced.
  if (!announcement || announcement.written || request.path === TOKEN_PATH) return;
  announcement.written = true;
  await announcement.write();
}

/** What the guard needs of the request budget (src/acronis/request-budget.ts). */
export interface SlotSource {
  acquire(signal?: AbortSignal, request?: unknown, slot?: SlotRequest): Promise<unknown>;
  sent?(slot: unknown): unknown;
}

/**
 * The request budget, plus the lock check before every mutating request made inside a step.
 * The check runs once the budget has answered (a run that waited out a Redis outage in the
 * budget finds its lock gone) and before the wait for the slot, so it does not delay the send.
 * Only an announced change (announceAtSend) pays a write, lock-checked with it, after the wait.
 */
export class LockGuardedThrottle implements RequestThrottle {
  constructor(private readonly budget: SlotSource) {}

  async acquire(signal?: AbortSignal, request?: Pick<ApiRequest, 'method' | 'path'>): Promise<unknown> {
    const job = scope.getStore();
    const mutating = request !== undefined && request.method !== 'GET';
    const sentAt = await this.budget.acquire(signal, request, {
      rank: job?.rank ?? 0,
      ...(job && mutating ? { beforeWait: () => job.assertLock() } : {}),
    });
    // After the wait, not before it: a slot given back (a 429 elsewhere) or a pause can keep a
    // change waiting for seconds, and a run cut off then must leave no intent behind.
    if (job && mutating) await announce(job, request);
    return sentAt;
  }

  sent(slot: unknown): void {
    this.budget.sent?.(slot);
  }
}
