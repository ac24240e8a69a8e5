import { UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '../logger.js';
import { parseCustomerRequest, problemsWithProfile, type FieldProblem } from '../onboarding/customer-request.js';
import type { Producer } from '../producers/producer.js';
import { writeBackJobId, type IntakeJob, type WriteBackQueue } from '../workers/source-queues.js';
import { SourceApiError, type SourceEvent, type SourceRecord } from './kind.js';
import type { SourceIntakeStore } from './intake-store.js';
import { mapCustomer, withOrigins } from './mapping.js';
import type { Source, SourceSet } from './source-set.js';
import { applyTrigger } from './trigger.js';
import { askAction } from './intake-action.js';
import { matchAction } from './source-actions.js';
import type { ActionEnqueueDeps } from '../workers/enqueue-action.js';
import { PartnerMismatchError, type EnqueueResult } from '../workers/enqueue.js';
import {
  movedPartnerReason,
  partnerConflicts,
  unknownPartnerProblem,
  type PartnerCheck,
  type ProducerPartners,
} from '../producers/partner-check.js';

/**
 * One recorded event, worked (docs/sources.md "Answer fast, then work"): read back what the event
 * lacks through the source's rate limit, apply the trigger and the mapping, judge the customer as a
 * CSV row is judged, and enqueue it through the producer's one enqueue function. Each step that
 * decides settles the event's outcome once; a source API that keeps failing settles it `failed` on
 * the last attempt. Running twice is harmless: a settled event is left alone, and the customer key
 * makes a second enqueue of the same object `already-queued` or `already-onboarded`.
 */
export interface IntakeDeps {
  sources: SourceSet;
  store: SourceIntakeStore;
  producer: Pick<Producer, 'enqueue'>;
  writeBacks: WriteBackQueue;
  logger: Logger;
  /** The partners a customer may name, and the records that say which one a known customer has. */
  partners?: PartnerCheck;
  /** Where the events the source file's `actions` match go; absent: this process takes none. */
  lifecycle?: { deps: ActionEnqueueDeps; offboardGraceMs: number };
}

type Decision =
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'rejected'; reason: string; problems: FieldProblem[] }
  | { outcome: 'onboarding'; request: ReturnType<typeof judge> & { ok: true } };

export async function runIntake(deps: IntakeDeps, job: Job<IntakeJob>, signal?: AbortSignal): Promise<string> {
  const { source: name, eventHash, event } = job.data;
  const log = deps.logger.child({ component: 'intake', source: name, eventId: event.eventId });
  try {
    return await work(deps, job, log, signal);
  } catch (err) {
    // Anything else that keeps failing (Redis under the enqueue, say): the last attempt settles it.
    const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    if (final) {
      const reason = `the intake failed: ${(err as Error).message}`;
      await deps.store.settle(name, eventHash, 'failed', { reason }).catch(() => undefined);
    }
    throw err;
  }
}

async function work(deps: IntakeDeps, job: Job<IntakeJob>, log: Logger, signal?: AbortSignal): Promise<string> {
  const { source: name, eventHash, event } = job.data;
  const source = deps.sources.get(name);
  if (!source) {
    await deps.store.settle(name, eventHash, 'failed', { reason: `the source ${name} is no longer configured` });
    return 'source gone';
  }
  const stored = await deps.store.event(name, eventHash);
  if (stored && stored.outcome !== 'received') return `already ${stored.outcome}`;
  const record = await readBack(deps, source, job, log, signal);
  if (!record) return 'failed';
  const asked = matchAction(source.config.actions, event, record);
  if (asked) {
    const done = await askAction(deps, source, job, record, asked, log);
    if (done !== undefined) return done;
  }
  const decision = await withRecordedPartner(deps, decide(source, event, record, deps.partners));
  if (decision.outcome !== 'onboarding') {
    await deps.store.settle(name, eventHash, decision.outcome, decision);
    log.info({ outcome: decision.outcome, reason: decision.reason }, 'source event settled');
    return decision.outcome;
  }
  return onboard(deps, source, job, decision.request.request, record, log);
}

/** The record, or undefined when the event is settled `failed` (refused, or the last attempt). */
async function readBack(
  deps: IntakeDeps,
  source: Source,
  job: Job<IntakeJob>,
  log: Logger,
  signal?: AbortSignal,
): Promise<SourceRecord | undefined> {
  const { eventHash, event } = job.data;
  try {
    const record = await source.kind.readBack(event, source.context(log, signal));
    await deps.store.countCall(source.config.name, 'read_back');
    return record;
  } catch (err) {
    await deps.store.countCall(source.config.name, 'read_back', err);
    const final = !(err instanceof SourceApiError && err.retryable) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const reason =
      err instanceof SourceApiError ? err.message : `reading the record back failed: ${(err as Error).message}`;
    log[final ? 'error' : 'warn']({ reason, final }, 'source read-back failed');
    if (!final) throw err;
    await deps.store.settle(source.config.name, eventHash, 'failed', { reason });
    return undefined;
  }
}

function decide(source: Source, event: SourceEvent, record: SourceRecord, partners?: ProducerPartners): Decision {
  const trigger = applyTrigger(source.config.trigger, event, record);
  if (!trigger.match) return { outcome: 'ignored', reason: trigger.reason };
  const mapping = source.config.mapping;
  if (mapping && event.objectId === '' && mapping.external_id === undefined) {
    const problems = [
      { field: 'external_id', reason: 'the event names no object id, and the mapping gives no external_id' },
    ];
    return { outcome: 'rejected', reason: 'the customer is not valid', problems };
  }
  const judged = judge(source, event, record, partners);
  if (!judged.ok) return { outcome: 'rejected', reason: 'the customer is not valid', problems: judged.problems };
  return { outcome: 'onboarding', request: judged };
}

/**
 * The same checks a CSV row gets: the schema, the partner, then what the source's profile can give.
 * The customer's partner is the mapped one (without a mapping, the event's), else the source file's.
 */
function judge(source: Source, event: SourceEvent, record: SourceRecord, partners?: ProducerPartners) {
  const mapping = source.config.mapping;
  const mapped = mapping
    ? mapCustomer(mapping, record, { source: source.config.name, objectId: event.objectId })
    : { candidate: event.payload, origins: {} };
  const parsed = parseCustomerRequest(mapped.candidate);
  if (!parsed.ok) return { ok: false as const, problems: withOrigins(parsed.problems, mapped.origins) };
  const request =
    parsed.request.partner || !source.config.partner
      ? parsed.request
      : { ...parsed.request, partner: source.config.partner };
  const unknown = partners ? unknownPartnerProblem(request, partners) : undefined;
  const problems = [...(unknown ? [unknown] : []), ...problemsWithProfile(request, source.profile)];
  if (problems.length > 0) return { ok: false as const, problems: withOrigins(problems, mapped.origins) };
  return { ok: true as const, request };
}

const MOVED = 'the customer is recorded under another partner';

/** A customer to onboard that is already recorded under another partner is rejected, as enqueue would refuse it. */
async function withRecordedPartner(deps: IntakeDeps, decision: Decision): Promise<Decision> {
  if (decision.outcome !== 'onboarding' || !deps.partners) return decision;
  const [problem] = await partnerConflicts(deps.partners.store, deps.partners, [decision.request.request]);
  return problem ? { outcome: 'rejected', reason: MOVED, problems: [problem] } : decision;
}

async function onboard(
  deps: IntakeDeps,
  source: Source,
  job: Job<IntakeJob>,
  request: Parameters<Producer['enqueue']>[1][number],
  record: SourceRecord,
  log: Logger,
): Promise<string> {
  const { eventHash, event } = job.data;
  const name = source.config.name;
  const label = `${name}: ${event.objectType} ${event.objectId || '(no id)'}`.slice(0, 200);
  let result: EnqueueResult;
  try {
    result = await deps.producer.enqueue({ source: `source:${name}`, label }, [request], { profile: source.profile });
  } catch (err) {
    // Recorded under another partner since our look (another producer): nothing was written.
    if (!(err instanceof PartnerMismatchError)) throw err;
    const problems = err.mismatches.map((m) => ({
      field: 'partner',
      reason: movedPartnerReason(m.key, m.recorded, m.asked),
    }));
    await deps.store.settle(name, eventHash, 'rejected', { reason: MOVED, problems });
    log.info({ outcome: 'rejected', reason: MOVED }, 'source event settled');
    return 'rejected';
  }
  const customer = result.customers[0];
  if (!customer) throw new UnrecoverableError('enqueue answered no customer');
  const started = customer.outcome === 'queued' || customer.outcome === 'replaced';
  if (started && record.writeBackTarget) await scheduleWriteBack(deps, name, customer.key, result.batch.id, record);
  await deps.store.settle(name, eventHash, 'onboarding', {
    batchId: result.batch.id,
    customer: customer.key,
    enqueued: customer.outcome,
  });
  log.info({ customer: customer.key, batchId: result.batch.id, enqueued: customer.outcome }, 'source event onboarding');
  return `onboarding (${customer.outcome})`;
}

async function scheduleWriteBack(
  deps: IntakeDeps,
  source: string,
  customerKey: string,
  batchId: string,
  record: SourceRecord,
): Promise<void> {
  const target = record.writeBackTarget as NonNullable<SourceRecord['writeBackTarget']>;
  await deps.store.setWriteBack(customerKey, { source, ...target, state: 'pending', attempts: 0, error: '' });
  await deps.writeBacks.add(
    'write-back',
    { source, customerKey, target, registeredAt: new Date().toISOString() },
    { jobId: writeBackJobId(customerKey, batchId), delay: 1000 },
  );
}
