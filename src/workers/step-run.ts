import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { AcronisEndpoints } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import type { RequestBudget } from '../acronis/request-budget.js';
import type { Logger } from '../logger.js';
import { nextStep, type ChainData, type ChainFacts, type Intent, type StepName } from '../onboarding/chain.js';
import { isRetryableStepError, needsChangeOf, reasonOf } from '../onboarding/errors.js';
import type { StepContext, StepDefinition } from '../onboarding/step.js';
import { customerField, type SecretBox } from '../secrets/secret-box.js';
import { nudgeCallback, type CallbackQueue } from './callback-queue.js';
import { nudgeWriteBack, type WriteBackQueue } from './source-queues.js';
import { LockLostError, runInJobScope } from './job-lock-guard.js';
import type { OfferingCache } from './offering-cache.js';
import type { OnboardingStore, Transition } from './onboarding-store.js';
import { jobIdFor, type OnboardingQueue } from './queue.js';
import { sendIntents, type SendIntentStore } from './send-intent.js';
import { waitForPartner, type PartnerRefusalsView } from './partner-refused-wait.js';
import { credentialsRefused } from '../partners/partner-refusal.js';

/**
 * Runs one step job. Chaining: a step that succeeds adds the next step's job (deterministic id,
 * so adding it twice is a no-op) with the facts learned so far, before its own job completes.
 * A crash in between re-runs the step (idempotent) and adds nothing new. A failure stays with
 * the job that failed, so `retry` resumes exactly there.
 */
export interface StepRunDeps {
  queue: OnboardingQueue;
  store: OnboardingStore;
  catalogue: Record<StepName, StepDefinition>;
  acronis: AcronisEndpoints;
  budget: RequestBudget;
  offers: OfferingCache;
  box: SecretBox;
  logger: Logger;
  dataCenterUrl: string;
  /** Promoted when a customer's end also ends its batch; absent where nobody sends callbacks. */
  callbacks?: CallbackQueue;
  /** A source customer's write-back is promoted when the customer is done or failed; absent: none are. */
  writeBacks?: WriteBackQueue;
  lockDurationMs: number;
  /** Where the intent of a send that cannot be looked up is written, under the job's lock. */
  sendIntents: SendIntentStore;
  /** Ceiling of one 429 pause. */
  maxRateLimitPauseMs: number;
  /** Told of each 429 pause (the metrics' time paused); never throws. */
  onRateLimited?(pauseMs: number): Promise<void>;
  /**
   * With several partners (docs/partners.md): a partner's client, offer and data-centre URL, by the
   * name its customer's job carries; absent (or no name): `acronis`, `offers` and `dataCenterUrl`.
   */
  partnerParts?(partner: string | undefined): PartnerParts;
  /**
   * With several partners: a step whose partner's client is refused waits instead of failing its
   * customer, and the refusal is said once (src/workers/partner-refused-wait.ts).
   */
  partnerRefusals?: PartnerRefusalsView;
}

/** What a step needs of its customer's partner. */
export interface PartnerParts {
  acronis: AcronisEndpoints;
  offers: OfferingCache;
  dataCenterUrl: string;
}

/** The customer's partner's parts: its own with several partners, else the worker's. */
export function partnerPartsOf(deps: StepRunDeps, partner: string | undefined): PartnerParts {
  if (partner !== undefined && deps.partnerParts) return deps.partnerParts(partner);
  return { acronis: deps.acronis, offers: deps.offers, dataCenterUrl: deps.dataCenterUrl };
}

export type StepJob = Job<ChainData, unknown, StepName>;

export async function runStepJob(deps: StepRunDeps, job: StepJob, token: string | undefined): Promise<unknown> {
  const { step, data } = await parseStepJob(deps, job);
  const logger = deps.logger.child({
    batchId: data.batchId,
    customer: data.customerKey,
    step: job.name,
    attempt: job.attemptsMade + 1,
  });
  const start = await recordStart(deps, job, data);
  if (start === 'superseded') {
    await job.log('superseded: the customer is now in a newer chain; this run does nothing');
    logger.warn({ runId: data.runId }, 'step of a superseded chain; not run');
    return { superseded: true };
  }
  if (await handedOverAlready(deps, job, data, logger)) return { handedOver: true };

  let checkpointed: Partial<ChainFacts> = {};
  const remember = (facts: Partial<ChainFacts>) => (checkpointed = { ...checkpointed, ...facts });
  const ctx = stepContext(deps, job, token, logger, remember);
  let output: Partial<ChainFacts>;
  try {
    const rank = data.steps.length - data.steps.indexOf(job.name);
    output = await runInJobScope({ assertLock: lockCheck(deps, job, token), rank }, () => step.run(data, ctx));
  } catch (err) {
    throw await stepFailed(deps, job, token, { ...data.facts, ...checkpointed }, err, logger);
  }
  await handOver(deps, job, data, { ...data.facts, ...checkpointed, ...output }, start === 'ended');
  deps.partnerRefusals?.accepted(data.request.partner);
  logger.info({ next: nextStep(data.steps, job.name) ?? null }, 'step done');
  return output;
}

/** The job's data against its step's schema; unusable data fails the customer for good. */
async function parseStepJob(deps: StepRunDeps, job: StepJob): Promise<{ step: StepDefinition; data: ChainData }> {
  const step = deps.catalogue[job.name];
  if (!step) throw new UnrecoverableError(`no handler for step "${job.name}"`);
  const parsed = step.input.safeParse(job.data);
  if (parsed.success) return { step, data: parsed.data };
  const issue = parsed.error.issues[0];
  const reason = `job data unusable for ${job.name}: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`;
  const key = typeof job.data?.customerKey === 'string' ? job.data.customerKey : '(unknown)';
  await deps.store.markFailed(key, job.name, reason, false);
  throw new UnrecoverableError(reason);
}

/**
 * Marks the customer running in this job's chain: `ended` when its chain was onboarded already,
 * `superseded` when a newer chain holds it (a stale run).
 * The record is claimed here, as its producer would, when there is none (the producer crashed
 * between adding this chain and recording it) or it still holds the failed chain this one
 * replaces (the job started before the producer's claim came): the producer's claim, when it
 * comes, finds this run and changes nothing.
 */
async function recordStart(
  deps: StepRunDeps,
  job: StepJob,
  data: ChainData,
): Promise<'running' | 'ended' | 'superseded'> {
  const key = data.customerKey;
  const attempt = job.attemptsMade + 1;
  const running = await deps.store.markRunning(key, job.name, attempt, data.runId);
  // Onboarded already: a stalled job re-running its last step (the worker died after markDone).
  if (running.previous === 'done' && !running.otherRun) return 'ended';
  if (running.previous !== null && !running.otherRun) return 'running';
  if (running.otherRun && running.previous !== 'failed') return 'superseded';
  const claimed = await deps.store.claim({
    batchId: data.batchId,
    key,
    runId: data.runId,
    // Where the producer lists it (the file's order), so a worker first to claim keeps that order.
    position: data.position ?? Date.now(),
    hasJob: true,
    // As the producer's claim records it (src/workers/enqueue.ts): this one may come first.
    fields: {
      name: data.request.name,
      steps: data.steps.join(','),
      ...(data.request.partner ? { partner: data.request.partner } : {}),
    },
  });
  if (claimed !== 'queued' && claimed !== 'replaced') return 'superseded';
  await deps.store.markRunning(key, job.name, attempt, data.runId);
  return 'running';
}

/**
 * The next step's job is added only after this step's side effects succeeded, so if it exists
 * this step ran to the end already: a re-run after a stall must not repeat them (e.g. send a
 * second activation e-mail).
 */
async function handedOverAlready(deps: StepRunDeps, job: StepJob, data: ChainData, logger: Logger): Promise<boolean> {
  const next = nextStep(data.steps, job.name);
  if (!next) return false;
  const handedOver = await deps.queue.getJob(jobIdFor(data.customerKey, next));
  if (!handedOver || handedOver.data.runId !== data.runId) return false;
  await job.log(`already done: ${next} was queued by an earlier run of this step; not repeating it`);
  logger.info({ next }, 'step already handed over; not repeated');
  return true;
}

function stepContext(
  deps: StepRunDeps,
  job: StepJob,
  token: string | undefined,
  logger: Logger,
  remember: (facts: Partial<ChainFacts>) => Partial<ChainFacts>,
): StepContext {
  const checkpoint = async (facts: Partial<ChainFacts>) => {
    const checkpointed = remember(facts);
    await job.updateData({ ...job.data, facts: { ...job.data.facts, ...checkpointed } });
  };
  const intend = async (what: Intent, facts: Partial<ChainFacts> = {}) => {
    const recorded = job.data.facts.intents?.[what];
    if (recorded) return new Date(recorded);
    await checkpoint({ ...facts, intents: { ...job.data.facts.intents, [what]: new Date().toISOString() } });
    return undefined;
  };
  const partner = partnerPartsOf(deps, job.data.request.partner);
  return {
    acronis: partner.acronis,
    logger,
    log: async (line) => {
      await job.log(line);
    },
    secrets: {
      seal: (plain, field) => deps.box.seal(plain, customerField(job.data.customerKey, field)),
      open: (sealed, field) => deps.box.open(sealed, customerField(job.data.customerKey, field)),
    },
    offers: partner.offers,
    checkpoint,
    intend,
    ...sendIntents({ store: deps.sendIntents, job, jobId: jobIdOf(job), token, logger, remember }),
    dataCenterUrl: partner.dataCenterUrl,
  };
}

/** A 429 without Retry-After waits this long: the length of the sliding window APIs commonly count in. */
const DEFAULT_RETRY_AFTER_MS = 1_000;

/** Checked before every change the step sends: a run whose job stalled and runs elsewhere stops. */
export function lockCheck(deps: StepRunDeps, job: StepJob, token: string | undefined): () => Promise<void> {
  return async () => {
    if (token === undefined) return;
    if ((await job.extendLock(token, deps.lockDurationMs)) !== 1) throw new LockLostError(jobIdOf(job));
  };
}

/** A job a worker runs has its id; the one it was added with, by construction. */
function jobIdOf(job: StepJob): string {
  return job.id ?? jobIdFor(job.data.customerKey, job.name);
}

/** Decides what a failed attempt means and returns the error for BullMQ to act on. */
async function stepFailed(
  deps: StepRunDeps,
  job: StepJob,
  token: string | undefined,
  facts: Partial<ChainFacts>,
  err: unknown,
  logger: Logger,
): Promise<unknown> {
  if (err instanceof LockLostError) {
    // Another run owns the job now; it records the outcome, this one leaves quietly.
    logger.warn({ jobId: job.id }, err.message);
    return err;
  }
  if (err instanceof AcronisApiError && err.status === 429) return rateLimited(deps, job, token, err, logger);
  if (deps.partnerRefusals && credentialsRefused(err))
    return waitForPartner(deps.partnerRefusals, job.data.request.partner, job, token, err, logger);
  const key = job.data.customerKey;
  const retryable = isRetryableStepError(err);
  const reason = `${job.name}: ${reasonOf(err)}`;
  const final = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  const logged = err instanceof AcronisApiError ? err.toJSON() : reasonOf(err);
  logger[final ? 'error' : 'warn']({ err: logged, retryable, final }, 'step failed');
  await job.log(`${final ? 'failed' : 'will retry'}: ${reason}`);
  // A first step's retry comes back to the wait list, ahead of customers not started yet (docs/bullmq.md §1.12).
  if (!final && job.priority > 0) await job.changePriority({ priority: 0 });
  if (final) {
    await deps.store.recordFacts(key, facts);
    const transition = await deps.store.markFailed(
      key,
      job.name,
      reason,
      retryable,
      needsChangeOf(err),
      job.data.runId,
    );
    await afterTransition(deps, transition, job.data);
  }
  return retryable ? err : new UnrecoverableError(reason);
}

/**
 * One API budget for everyone: a 429 is judged by the budget. At a limit found with a deep cut,
 * every worker's requests and the queue itself pause and this job goes back to the queue; noise
 * (or a probe above the limit) holds back only this job, for its answer's Retry-After. Neither
 * spends an attempt (docs/bullmq.md §1.3, docs/resilience.md "429s: noise or a limit").
 */
export async function rateLimited(
  deps: StepRunDeps,
  job: StepJob,
  token: string | undefined,
  err: AcronisApiError,
  logger: Logger,
): Promise<Error> {
  const retryAfterMs = Math.min(err.retryAfterMs ?? DEFAULT_RETRY_AFTER_MS, deps.maxRateLimitPauseMs);
  const outcome = await deps.budget.refused(err.retryAfterMs === undefined ? undefined : retryAfterMs, err.sentAt);
  if (outcome.pauseMs > 0) {
    await deps.queue.rateLimit(outcome.pauseMs);
    await deps.onRateLimited?.(outcome.pauseMs);
    logger.warn({ pauseMs: outcome.pauseMs, why: outcome.why }, 'acronis answered 429: pausing the whole pipeline');
    await job.log(
      `429 Too Many Requests (${outcome.why}): every worker pauses ${outcome.pauseMs} ms; this step goes back to the queue`,
    );
    return Worker.RateLimitError();
  }
  logger.info({ retryAfterMs, why: outcome.why }, 'acronis answered 429: this step waits, the others go on');
  await job.log(`429 Too Many Requests (${outcome.why}): this step retries in ${retryAfterMs} ms`);
  // Without the lock's token (a run outside a worker) the job can only go back to the queue at once.
  if (token === undefined) return Worker.RateLimitError();
  await job.moveToDelayed(Date.now() + retryAfterMs, token);
  return new DelayedError();
}

/** Records what the step established, then queues the next step or marks the customer onboarded. */
async function handOver(
  deps: StepRunDeps,
  job: StepJob,
  data: ChainData,
  facts: Partial<ChainFacts>,
  /** The customer was onboarded before this run of the step: its facts may have changed since (a lifecycle change, a resend) and stay. */
  ended: boolean,
): Promise<void> {
  const key = data.customerKey;
  if (!ended) await deps.store.recordFacts(key, facts);
  const next = nextStep(data.steps, job.name);
  if (!next) {
    await afterTransition(deps, await deps.store.markDone(key, data.runId), data);
    return;
  }
  const nextData = deps.catalogue[next].input.parse({ ...data, facts });
  await deps.queue.add(next, nextData, { jobId: jobIdFor(key, next) });
}

/**
 * A customer that was its batch's last one lets the batch's callback go now; one a source started
 * lets its write-back go (`chain`: the customer and the batch its chain belongs to).
 */
export async function afterTransition(
  deps: Pick<StepRunDeps, 'callbacks' | 'writeBacks'>,
  transition: Transition,
  chain?: { customerKey: string; batchId: string },
): Promise<void> {
  if (transition.endedBatchId && deps.callbacks) await nudgeCallback(deps.callbacks, transition.endedBatchId);
  if (chain && transition.applied && deps.writeBacks)
    await nudgeWriteBack(deps.writeBacks, chain.customerKey, chain.batchId);
}
