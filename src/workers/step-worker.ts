import { UnrecoverableError, Worker, type Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AcronisEndpoints } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import type { RequestBudget } from '../acronis/request-budget.js';
import type { Logger } from '../logger.js';
import { nextStep, type ChainData, type ChainFacts, type StepName } from '../onboarding/chain.js';
import { isRetryableStepError, reasonOf } from '../onboarding/errors.js';
import type { StepContext, StepDefinition } from '../onboarding/step.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { LockLostError, runHoldingJobLock } from './job-lock-guard.js';
import type { OfferingCache } from './offering-cache.js';
import type { OnboardingStore } from './onboarding-store.js';
import { jobIdFor, ONBOARDING_QUEUE } from './queue.js';

/**
 * The worker that runs step jobs. Chaining: a step that succeeds adds the next step's job
 * (deterministic id, so adding it twice is a no-op) with the facts learned so far, before
 * its own job completes. A crash in between re-runs the step (idempotent) and re-adds
 * nothing new. Failures stay with the one job that failed, so `retry` resumes exactly there.
 */
export interface StepWorkerDeps {
  /** A connection for the worker's blocking commands (maxRetriesPerRequest: null). */
  connection: Redis;
  prefix: string;
  queue: Queue<ChainData, unknown, StepName>;
  store: OnboardingStore;
  catalogue: Record<StepName, StepDefinition>;
  acronis: AcronisEndpoints;
  budget: RequestBudget;
  offers: OfferingCache;
  box: SecretBox;
  logger: Logger;
  dataCenterUrl: string;
  concurrency: number;
  /** ACRONIS_RATE_LIMIT: also bounds how many step jobs start per second. */
  requestsPerSecond: number;
  /** Ceiling of one 429 pause (BULLMQ-NOTES.md §1.3: "and is capped"). */
  maxRateLimitPauseMs?: number;
  /** How often a job may be put back by 429s before it counts as failed. */
  maxRateLimitedStarts?: number;
  lockDurationMs?: number;
}

export function createStepWorker(deps: StepWorkerDeps): Worker<ChainData, unknown, StepName> {
  const maxPauseMs = deps.maxRateLimitPauseMs ?? 60_000;
  const lockDuration = deps.lockDurationMs ?? 30_000;

  const worker = new Worker<ChainData, unknown, StepName>(ONBOARDING_QUEUE, async (job, token) => runStep(job, token), {
    connection: deps.connection,
    prefix: deps.prefix,
    concurrency: deps.concurrency,
    // The request budget bounds API calls; this bounds job starts to the same order, so
    // jobs do not pile up holding locks while they wait for the budget. It also makes
    // BullMQ honour queue.rateLimit() (its check needs a limiter max).
    limiter: { max: Math.max(1, Math.ceil(deps.requestsPerSecond * 2)), duration: 1000 },
    // A 429 puts the job back without counting an attempt; this caps how often.
    maxStartedAttempts: deps.maxRateLimitedStarts ?? 200,
    lockDuration,
    stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
    maxStalledCount: 2,
    autorun: false,
  });

  async function runStep(job: Job<ChainData, unknown, StepName>, token: string | undefined): Promise<unknown> {
    const step = deps.catalogue[job.name];
    if (!step) throw new UnrecoverableError(`no handler for step "${job.name}"`);
    const key = typeof job.data?.customerKey === 'string' ? job.data.customerKey : '(unknown)';
    const parsed = step.input.safeParse(job.data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const reason = `job data unusable for ${job.name}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`;
      await deps.store.markFailed(key, job.name, reason, false);
      throw new UnrecoverableError(reason);
    }
    const data = parsed.data;
    const logger = deps.logger.child({
      batchId: data.batchId,
      customer: key,
      step: job.name,
      attempt: job.attemptsMade + 1,
    });

    const running = await deps.store.markRunning(key, job.name, job.attemptsMade + 1);
    if (running.previous === null) {
      // The producer crashed between adding this chain and recording it: record it now.
      await deps.store.claim({
        batchId: data.batchId,
        key,
        runId: data.runId,
        position: Date.now(),
        fields: { name: data.request.name, steps: data.steps.join(',') },
      });
      await deps.store.markRunning(key, job.name, job.attemptsMade + 1);
    }

    // The next step's job is added only after this step's side effects succeeded, so if it
    // exists this step has run to the end already: a re-run after a stall (the worker died,
    // or Redis was away longer than the lock, after the hand-over) must not repeat them —
    // e.g. send a second activation e-mail.
    const next = nextStep(data.steps, job.name);
    if (next) {
      const handedOver = await deps.queue.getJob(jobIdFor(key, next));
      if (handedOver && handedOver.data.runId === data.runId) {
        await job.log(`already done: ${next} was queued by an earlier run of this step; not repeating it`);
        logger.info({ next }, 'step already handed over; not repeated');
        return { handedOver: true };
      }
    }

    let checkpointed: Partial<ChainFacts> = {};
    const ctx: StepContext = {
      acronis: deps.acronis,
      logger,
      log: async (line) => {
        await job.log(line);
      },
      secrets: { seal: (plain) => deps.box.seal(plain), open: (sealed) => deps.box.open(sealed) },
      offers: deps.offers,
      checkpoint: async (facts) => {
        checkpointed = { ...checkpointed, ...facts };
        await job.updateData({ ...job.data, facts: { ...job.data.facts, ...checkpointed } });
      },
      dataCenterUrl: deps.dataCenterUrl,
    };

    const assertLock = async () => {
      if (token === undefined) return;
      if ((await job.extendLock(token, lockDuration)) !== 1) throw new LockLostError(job.id ?? key);
    };
    let output: Partial<ChainFacts>;
    try {
      output = await runHoldingJobLock(assertLock, () => step.run(data, ctx));
    } catch (err) {
      if (err instanceof LockLostError) {
        // Another run owns the job now; it records the outcome, this one leaves quietly.
        logger.warn({ jobId: job.id }, err.message);
        throw err;
      }
      if (err instanceof AcronisApiError && err.status === 429) {
        // One API budget for everyone: pause every worker's requests and the queue itself,
        // and put this job back without spending an attempt (BULLMQ-NOTES.md §1.3).
        const pauseMs = await deps.budget.pause(Math.min(err.retryAfterMs ?? 1000, maxPauseMs));
        await deps.queue.rateLimit(pauseMs);
        logger.warn({ pauseMs }, 'acronis answered 429: pausing the whole pipeline');
        await job.log(`429 Too Many Requests: every worker pauses ${pauseMs} ms; this step goes back to the queue`);
        throw Worker.RateLimitError();
      }
      const retryable = isRetryableStepError(err);
      const reason = `${job.name}: ${reasonOf(err)}`;
      const final = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      logger[final ? 'error' : 'warn'](
        { err: err instanceof AcronisApiError ? err.toJSON() : reasonOf(err), retryable, final },
        'step failed',
      );
      await job.log(`${final ? 'failed' : 'will retry'}: ${reason}`);
      if (final) {
        await deps.store.recordFacts(key, { ...data.facts, ...checkpointed });
        await deps.store.markFailed(key, job.name, reason, retryable);
      }
      if (!retryable) throw new UnrecoverableError(reason);
      throw err;
    }

    const facts = { ...data.facts, ...checkpointed, ...output };
    await deps.store.recordFacts(key, facts);
    if (next) {
      const nextData = deps.catalogue[next].input.parse({ ...data, facts });
      await deps.queue.add(next, nextData, { jobId: jobIdFor(key, next) });
    } else {
      await deps.store.markDone(key);
    }
    logger.info({ next: next ?? null }, 'step done');
    return output;
  }

  // Backstop: a job can also fail for good without its processor deciding (stalled too
  // often, the started-attempts cap); the customer must not stay "running" then.
  worker.on('failed', (job, err) => {
    if (!job) return;
    void (async () => {
      if (!(await job.isFailed())) return;
      const record = await deps.store.getCustomer(job.data.customerKey);
      if (record && record.state !== 'failed' && record.state !== 'done' && record.runId === job.data.runId) {
        await deps.store.markFailed(job.data.customerKey, job.name, `${job.name}: ${err.message}`, false);
      }
    })().catch((cause: unknown) => deps.logger.error({ err: reasonOf(cause) }, 'could not record a failed step'));
  });
  worker.on('error', (err) => deps.logger.error({ err: reasonOf(err) }, 'worker error'));
  return worker;
}
