import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import {
  actionJobId,
  actionJobSchema,
  FINAL_ACTION_STATES,
  type ActionFacts,
  type ActionJob,
  type ActionStepName,
} from '../lifecycle/action.js';
import {
  ACTION_STEPS,
  SENDS_NOTHING,
  type ActionStepContext,
  type ActionStepResult,
} from '../lifecycle/action-steps.js';
import type { Logger } from '../logger.js';
import { isRetryableStepError, reasonOf } from '../onboarding/errors.js';
import { AcronisApiError } from '../acronis/errors.js';
import type { ActionStore } from './action-store.js';
import { LockLostError, runInJobScope } from './job-lock-guard.js';
import { lockCheck, partnerPartsOf, rateLimited, type StepRunDeps } from './step-run.js';
import { waitForPartner } from './partner-refused-wait.js';
import { credentialsRefused } from '../partners/partner-refusal.js';

/**
 * Runs one step job of a lifecycle action (docs/lifecycle.md "How an action runs"), on the same
 * worker, queue, request budget and lock checks as the onboarding steps. The first step waits for
 * the customer's turn; each step hands over to the next by adding its job (deterministic id),
 * the last one records the outcome and gives the turn to the customer's next action.
 */
export interface ActionRunDeps extends StepRunDeps {
  actions: ActionStore;
  /** How long a step waiting for its turn sleeps (in BullMQ's delayed set) before it looks again. */
  turnWaitMs?: number;
}

export type ActionStepJob = Job<ActionJob, unknown, ActionStepName>;

const DEFAULT_TURN_WAIT_MS = 1000;

export async function runActionJob(
  deps: ActionRunDeps,
  job: ActionStepJob,
  token: string | undefined,
): Promise<unknown> {
  const parsed = actionJobSchema.safeParse(job.data);
  if (!parsed.success)
    throw new UnrecoverableError(`job data unusable for ${job.name}: ${parsed.error.issues[0]?.message}`);
  const data = parsed.data;
  const logger = deps.logger.child({ action: data.actionId, customer: data.customerKey, step: job.name });
  await deps.actions.ensureRecord(data.batchId, {
    id: data.actionId,
    customerKey: data.customerKey,
    customerName: data.customerName,
    action: data.action,
    requester: data.requester,
  });
  const record = await deps.actions.get(data.actionId);
  if (!record || FINAL_ACTION_STATES.includes(record.state)) {
    await deps.actions.release({ id: data.actionId, customerKey: data.customerKey });
    await job.log(`the action has ended already (${record?.state ?? 'no record'}); nothing to do`);
    return { ended: true };
  }
  if (job.name === data.steps[0] && !(await takeTurn(deps, job, token, data))) return { ended: true };
  if (await handedOverAlready(deps, job, data)) return { handedOver: true };
  const started = await deps.actions.transition(
    data.actionId,
    ['queued', 'waiting', 'running', 'pending-deletion'],
    'running',
    {
      step: job.name,
      startedAt: record.startedAt ?? new Date().toISOString(),
      outcome: undefined,
    },
  );
  if (!started.applied) return { ended: true };

  let result: ActionStepResult;
  let last: ActionStepName = job.name;
  try {
    const tenantId = data.facts.tenantId ?? (await tenantOf(deps, data));
    const facts = { ...data.facts, tenantId };
    const step = ACTION_STEPS[job.name];
    const ctx = actionStepContext(deps, job, data, logger);
    result = await runInJobScope({ assertLock: lockCheck(deps, job as never, token), rank: 1 }, () =>
      step({ ...data, facts }, ctx),
    );
    result = { ...result, facts: { ...facts, ...result.facts } };
    ({ result, last } = await passStepsWithNothingToSend(data, job, ctx, result, facts));
  } catch (err) {
    throw await actionFailed(deps, job, token, data, err, logger);
  }
  await handOver(deps, data, last, result);
  return result.facts;
}

/**
 * The steps after this one that are known to send nothing (SENDS_NOTHING) are decided here, their
 * results recorded with this step's, and the hand-over goes past them: no job for a step that
 * would only read Redis and hand over again.
 */
async function passStepsWithNothingToSend(
  data: ActionJob,
  job: ActionStepJob,
  ctx: ActionStepContext,
  result: ActionStepResult,
  facts: ActionFacts & { tenantId: string },
): Promise<{ result: ActionStepResult; last: ActionStepName }> {
  let last: ActionStepName = job.name;
  let passed = result;
  for (;;) {
    if (passed.end || passed.pendingUntil) break;
    const next = data.steps[data.steps.indexOf(last) + 1];
    const decide = next && SENDS_NOTHING[next];
    if (!next || !decide) break;
    const nothing = await decide({ ...data, facts: { ...facts, ...passed.facts } }, ctx);
    if (!nothing) break;
    passed = { ...nothing, facts: { ...passed.facts, ...nothing.facts } };
    last = next;
    await job.log(`${next}: nothing to send (${nothing.facts.notes?.at(-1) ?? 'as it is'}); its job is not needed`);
  }
  return { result: passed, last };
}

function actionStepContext(
  deps: ActionRunDeps,
  job: ActionStepJob,
  data: ActionJob,
  logger: Logger,
): ActionStepContext {
  const partner = partnerPartsOf(deps, data.partner);
  return {
    acronis: partner.acronis,
    logger,
    offers: partner.offers,
    log: async (line: string) => void (await job.log(line)),
    adminUserId: async () => (await deps.store.getCustomer(data.customerKey))?.facts.userId,
    rolesSetLast: async () => {
      const changes = await deps.actions.customerActions(data.customerKey);
      const last = changes.find((a) => a.action === 'change' && a.state === 'done' && a.facts.roles);
      return last?.facts.roles ?? (await deps.store.getCustomer(data.customerKey))?.facts.roles;
    },
    ownQuotas: async () => (await deps.store.getCustomer(data.customerKey))?.facts.ownQuotas,
    rememberOwnQuotas: async (ownQuotas) => {
      const recorded = await deps.store.amendFacts(data.customerKey, (facts) => ({ ...facts, ownQuotas }));
      if (!recorded) throw new Error(`could not record the own quotas of customer "${data.customerKey}"; will retry`);
    },
    checkpoint: async (more: Partial<ActionFacts>) => {
      await job.updateData({ ...job.data, facts: { ...job.data.facts, ...more } });
    },
  };
}

/**
 * The customer's turn (src/redis/lua/action-turn.lua): while its onboarding runs or another action
 * is ahead, the job sleeps in BullMQ's delayed set and looks again; an attempt is not spent.
 */
async function takeTurn(
  deps: ActionRunDeps,
  job: ActionStepJob,
  token: string | undefined,
  data: ActionJob,
): Promise<boolean> {
  const { verdict, ahead } = await deps.actions.turn(data.customerKey, data.actionId);
  if (verdict === 'go') return true;
  if (verdict === 'not-onboarded' || verdict === 'onboarding-failed') {
    const reason =
      verdict === 'not-onboarded'
        ? `customer "${data.customerKey}" has no onboarding record in this install`
        : `the onboarding of customer "${data.customerKey}" failed: retry or fix it first, then ask again`;
    await deps.actions.finish({ id: data.actionId, customerKey: data.customerKey }, 'failed', { error: reason });
    await job.log(`failed: ${reason}`);
    return false;
  }
  const waitingFor =
    verdict === 'onboarding' ? 'its onboarding to finish' : `action ${ahead ?? ''} on the same customer`;
  await deps.actions.transition(data.actionId, ['queued', 'waiting'], 'waiting', {
    outcome: `waits for ${waitingFor}`,
  });
  if (token === undefined) throw new Error('a waiting action needs its job lock token to sleep');
  await job.moveToDelayed(Date.now() + (deps.turnWaitMs ?? DEFAULT_TURN_WAIT_MS), token);
  throw new DelayedError();
}

/**
 * A later step's job exists: this step ran to its end already (a re-run after a crash) and is not
 * repeated. Any later step, not only the next: the hand-over may have passed steps with nothing to send.
 */
async function handedOverAlready(deps: ActionRunDeps, job: ActionStepJob, data: ActionJob): Promise<boolean> {
  const later = data.steps.slice(data.steps.indexOf(job.name) + 1);
  if (later.length === 0) return false;
  const jobs = await Promise.all(later.map((step) => deps.queue.getJob(actionJobId(data.actionId, step))));
  const next = later.find((_, i) => jobs[i]);
  if (!next) return false;
  await job.log(`already done: ${next} was queued by an earlier run of this step`);
  return true;
}

async function tenantOf(deps: ActionRunDeps, data: ActionJob): Promise<string> {
  const record = await deps.store.getCustomer(data.customerKey);
  const tenantId = record?.facts.tenantId;
  if (!tenantId)
    throw new UnrecoverableError(`customer "${data.customerKey}" has no tenant recorded by its onboarding`);
  return tenantId;
}

/** Records what the step learned, then queues the next step (an offboard's delete after its grace) or ends the action. */
async function handOver(deps: ActionRunDeps, data: ActionJob, current: ActionStepName, result: ActionStepResult) {
  const facts: ActionFacts = result.facts;
  await deps.actions.recordFacts(data.actionId, facts);
  const next = data.steps[data.steps.indexOf(current) + 1];
  const action = { id: data.actionId, customerKey: data.customerKey };
  if (result.end) {
    await deps.actions.finish(action, result.end.state, {
      outcome: result.end.outcome,
      ...(result.end.state === 'failed' ? { error: result.end.outcome } : {}),
      step: current,
    });
    return;
  }
  if (!next) {
    await deps.actions.finish(action, 'done', { outcome: (facts.notes ?? []).join('; ') || 'done', step: current });
    return;
  }
  const delay = result.pendingUntil ? Math.max(0, result.pendingUntil.getTime() - Date.now()) : 0;
  if (result.pendingUntil) {
    await deps.actions.transition(data.actionId, ['running'], 'pending-deletion', {
      deleteAt: result.pendingUntil.toISOString(),
      outcome: (facts.notes ?? []).join('; '),
    });
    await deps.actions.schedulePendingDeletion(data.actionId, result.pendingUntil);
  }
  const queue = deps.queue as unknown as { add(name: string, data: ActionJob, opts: object): Promise<unknown> };
  await queue.add(
    next,
    { ...data, facts },
    { jobId: actionJobId(data.actionId, next), ...(delay > 0 ? { delay } : {}) },
  );
}

/** What a failed attempt means: as for onboarding steps, with the action's record in place of the customer's. */
async function actionFailed(
  deps: ActionRunDeps,
  job: ActionStepJob,
  token: string | undefined,
  data: ActionJob,
  err: unknown,
  logger: Logger,
): Promise<unknown> {
  if (err instanceof LockLostError) {
    logger.warn({ jobId: job.id }, err.message);
    return err;
  }
  if (err instanceof AcronisApiError && err.status === 429) return rateLimited(deps, job as never, token, err, logger);
  // Its partner refused (several partners): the action waits as its customers' steps do.
  if (deps.partnerRefusals && credentialsRefused(err))
    return waitForPartner(deps.partnerRefusals, data.partner, job as never, token, err, logger);
  const retryable = !(err instanceof UnrecoverableError) && isRetryableStepError(err);
  const reason = `${job.name}: ${reasonOf(err)}`;
  const final = !retryable || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  logger[final ? 'error' : 'warn']({ err: reasonOf(err), retryable, final }, 'action step failed');
  await job.log(`${final ? 'failed' : 'will retry'}: ${reason}`);
  if (final) {
    await deps.actions.finish({ id: data.actionId, customerKey: data.customerKey }, 'failed', {
      error: reason,
      step: job.name,
    });
  }
  return retryable ? err : new UnrecoverableError(reason);
}
