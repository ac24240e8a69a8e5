import type { AcronisEndpoints } from '../acronis/client.js';
import type { OfferingItem } from '../acronis/offering-items.js';
import {
  actionJobId,
  actionJobSchema,
  actionSteps,
  type ActionName,
  type ActionParams,
  type ActionStepName,
  type Requester,
} from '../lifecycle/action.js';
import { quotasOverPartner } from '../lifecycle/partner-quotas.js';
import { customerKeyOf, problemsWithProfile } from '../onboarding/customer-request.js';
import { checkProfileAgainstOffer, OfferingPlanError } from '../onboarding/offering-plan.js';
import { planOwnQuotas, type OwnQuotasPlan } from '../onboarding/own-quotas.js';
import { profileEditionFor, type Profile } from '../onboarding/profile.js';
import type { ActionRecord, ActionStore } from './action-store.js';
import type { CustomerRecord, OnboardingStore } from './onboarding-store.js';
import { FIRST_STEP_PRIORITY, type OnboardingQueue } from './queue.js';

/**
 * The one way lifecycle actions enter the pipeline (docs/lifecycle.md "Asking for an action"):
 * every request is checked first, and a refusal names the customer and the field, before anything
 * is queued. Then the first step job of each action is added (jobs before records: a crash in
 * between leaves a job that writes its record itself), then the records and each customer's line.
 */
export interface ActionRequest {
  /** The customer as the operator names it: its key (external id) or its name. */
  customer: string;
  action: ActionName;
  params: ActionParams;
  requester: Requester;
  /** The CSV line, for messages. */
  line?: number;
  /** The customer's tenant when its record does not hold it yet (an adoption queued with the action). */
  tenantId?: string;
}

export interface ActionEnqueueDeps {
  queue: OnboardingQueue;
  store: OnboardingStore;
  actions: ActionStore;
  partnerTenantId: string;
  /** What the partner offers customers of an edition (to check a change's profile). */
  offers?: { availableForChild(partnerTenantId: string, edition: string): Promise<OfferingItem[]> };
  /** A customer's enabled items (to check that a change keeps its one storage). */
  acronis?: Pick<AcronisEndpoints, 'getOfferingItems'>;
  /**
   * With several partners (docs/partners.md): a partner's queue, tenant, offer and client, for the
   * customers recorded under it; absent, or a record naming none: the ones above.
   */
  partnerDeps?(partner: string): Promise<PartnerActionDeps>;
}

/** What an action needs of its customer's partner. */
export type PartnerActionDeps = Pick<ActionEnqueueDeps, 'queue' | 'partnerTenantId' | 'offers' | 'acronis'>;

/** The deps of the customer's own partner. */
async function depsFor(deps: ActionEnqueueDeps, record: CustomerRecord): Promise<ActionEnqueueDeps> {
  if (record.partner === undefined || !deps.partnerDeps) return deps;
  return { ...deps, ...(await deps.partnerDeps(record.partner)) };
}

export interface ActionProblem {
  customer: string;
  line?: number;
  field: string;
  reason: string;
}

export interface CheckedAction extends ActionRequest {
  key: string;
  name: string;
  record: CustomerRecord;
  /** A change's own quotas for the customer as the check planned them (when the partner's offer was read). */
  own?: OwnQuotas;
}

/** What a change will do to the customer's own quotas (src/onboarding/own-quotas.ts). */
export type OwnQuotas = Omit<OwnQuotasPlan, 'plan'>;

type FieldProblem = { field: string; reason: string };

/** How a customer not onboarded here can be brought under acronis-onboard. */
export const ADOPT_HINT =
  'acronis-onboard acts only on customers it onboarded or adopted; to take over a tenant made elsewhere: acronis-onboard adopt --tenant <tenant id or name> --external-id <id> (docs/adopt.md)';

/** `--partner` (docs/lifecycle.md): only that partner's customers; a record naming none is the default partner's. */
export interface PartnerFilter {
  partner: string;
  defaultPartner: string;
}

/** Why a customer is not one `--partner` lets through: it is another partner's. */
function otherPartnerOf(only: PartnerFilter | undefined, record: CustomerRecord): FieldProblem | undefined {
  const partner = record.partner ?? only?.defaultPartner;
  if (!only || partner === only.partner) return undefined;
  return { field: 'partner', reason: `it is partner "${partner}"'s customer, not "${only.partner}"'s (--partner)` };
}

/** Why no action may start on the customer now: its onboarding failed, a delete is pending or done. */
async function stateProblem(
  deps: ActionEnqueueDeps,
  key: string,
  record: CustomerRecord,
): Promise<FieldProblem | undefined> {
  if (record.state === 'failed')
    return {
      field: 'customer',
      reason: `its onboarding failed at ${record.failedStep ?? 'a step'}: retry it (acronis-onboard retry) first`,
    };
  const pending = (await deps.actions.openActions(key)).find((a) => a.state === 'pending-deletion');
  if (pending)
    return {
      field: 'action',
      reason: `it is to be deleted at ${pending.deleteAt ?? '?'}: run offboard --cancel first`,
    };
  const deleted = (await deps.actions.customerActions(key, 5)).find((a) => a.state === 'deleted');
  if (deleted)
    return {
      field: 'customer',
      reason: `its tenant was deleted (${deleted.finishedAt ?? ''}) by offboard ${deleted.id}`,
    };
  return undefined;
}

/** Checks every request; nothing is queued by this. */
export async function checkActions(
  deps: ActionEnqueueDeps,
  requests: readonly ActionRequest[],
  only?: PartnerFilter,
): Promise<{ accepted: CheckedAction[]; problems: ActionProblem[] }> {
  const accepted: CheckedAction[] = [];
  const problems: ActionProblem[] = [];
  const offerCaches = new Map<string, Map<string, Promise<OfferingItem[]>>>();
  for (const request of requests) {
    const problem = (field: string, reason: string) =>
      problems.push({ customer: request.customer, ...(request.line ? { line: request.line } : {}), field, reason });
    const found = await findCustomer(deps.store, request.customer);
    if (!found) {
      problem('customer', `unknown customer: not onboarded by this install. ${ADOPT_HINT}`);
      continue;
    }
    const { key, record } = found;
    const refusal = otherPartnerOf(only, record) ?? (await stateProblem(deps, key, record));
    if (refusal) {
      problem(refusal.field, refusal.reason);
      continue;
    }
    let own: OwnQuotas | undefined;
    if (request.action === 'change') {
      const partner = await depsFor(deps, record);
      // The offer cache is the batch's: a partner's answers are kept apart from another's.
      const cache = offerCaches.get(record.partner ?? '') ?? new Map<string, Promise<OfferingItem[]>>();
      offerCaches.set(record.partner ?? '', cache);
      const checked = await checkChange(partner, request, record, cache);
      const reason = 'problem' in checked ? checked.problem : await storageProblem(partner, request, record);
      if (reason) {
        problem(reason.field, reason.reason);
        continue;
      }
      own = 'own' in checked ? checked.own : undefined;
    }
    if (request.action === 'contact' && !request.params.contact) {
      problem('contact', 'a contact change needs at least one of email, first_name, last_name, phone');
      continue;
    }
    const email = request.action === 'contact' ? request.params.contact?.email : undefined;
    if (email !== undefined && !/^\S+@\S+$/.test(email)) {
      problem('email', 'must be an e-mail address');
      continue;
    }
    accepted.push({ ...request, key, name: record.name || request.customer, record, ...(own ? { own } : {}) });
  }
  return { accepted, problems };
}

/**
 * By key first (the external id), then by the name normalised as the onboarding keys a customer
 * without one, then by the name it was submitted under (one customer only: two of that name are
 * named by key).
 */
async function findCustomer(
  store: OnboardingStore,
  given: string,
): Promise<{ key: string; record: CustomerRecord } | undefined> {
  for (const key of [given, customerKeyOf({ name: given })]) {
    const record = await store.getCustomer(key);
    if (record) return { key, record };
  }
  const keys = await store.keysByName(given);
  if (keys.length !== 1) return undefined;
  const record = await store.getCustomer(keys[0] as string);
  return record ? { key: keys[0] as string, record } : undefined;
}

/**
 * A change's profile and edition against what the partner offers (the edition, the items, the one
 * storage), then its quotas against the partner's own; with what it does to the customer's own quotas.
 */
async function checkChange(
  deps: ActionEnqueueDeps,
  request: ActionRequest,
  record: CustomerRecord,
  cache: Map<string, Promise<OfferingItem[]>>,
): Promise<{ problem: FieldProblem } | { own: OwnQuotas } | Record<string, never>> {
  const profile = request.params.profile;
  if (!profile) return { problem: { field: 'profile', reason: 'a change needs a profile' } };
  const edition = request.params.edition;
  if (edition && !profile.editions.includes(edition as never))
    return {
      problem: {
        field: 'edition',
        reason: `${edition} is not among the profile's editions (${profile.editions.join(', ')})`,
      },
    };
  const [quotaOutsideProfile] = problemsWithProfile({ quotas: namedItems(request.params) }, profile);
  if (quotaOutsideProfile) return { problem: quotaOutsideProfile };
  if (!deps.offers) return {};
  const offers = deps.offers;
  const byEdition: Record<string, OfferingItem[]> = {};
  for (const e of edition ? [edition] : profile.editions) {
    const lookup = cache.get(e) ?? offers.availableForChild(deps.partnerTenantId, e);
    cache.set(e, lookup);
    byEdition[e] = await lookup;
  }
  const narrowed = edition ? { ...profile, editions: [edition] as typeof profile.editions } : profile;
  const [problem] = checkProfileAgainstOffer(narrowed, byEdition);
  if (problem) return { problem: { field: `profile ${problem.field}`, reason: problem.reason } };
  const target = profileEditionFor(profile, edition);
  return checkQuotas(deps, request, record, target, byEdition[target] ?? [], cache);
}

/** Every item the change names a quota for, a number or `profile` (only the names are judged). */
function namedItems(params: ActionRequest['params']): Record<string, number> {
  return { ...Object.fromEntries((params.resetQuotas ?? []).map((item) => [item, 0])), ...params.quotas };
}

/**
 * The change's quotas, the customer's own (named now or kept from before) and the profile's: none
 * over the partner's own quota for the item (the partner's items read once per edition for the
 * whole batch).
 */
async function checkQuotas(
  deps: ActionEnqueueDeps,
  request: ActionRequest,
  record: CustomerRecord,
  edition: string,
  available: OfferingItem[],
  cache: Map<string, Promise<OfferingItem[]>>,
): Promise<{ problem: FieldProblem } | { own: OwnQuotas }> {
  let planned: OwnQuotasPlan;
  try {
    planned = planOwnQuotas({
      available,
      profile: request.params.profile as Profile,
      edition,
      kept: record.facts.ownQuotas,
      named: request.params.quotas,
      reset: request.params.resetQuotas,
    });
  } catch (err) {
    if (err instanceof OfferingPlanError) return { problem: { field: err.field, reason: err.reason } };
    throw err;
  }
  const { plan, ...own } = planned;
  if (!deps.acronis) return { own };
  const acronis = deps.acronis;
  const key = `partner:${edition}`;
  const lookup = cache.get(key) ?? acronis.getOfferingItems(deps.partnerTenantId, { edition, status: 1 });
  cache.set(key, lookup);
  const [problem] = quotasOverPartner(plan, await lookup, own.quotas, own.kept);
  return problem ? { problem } : { own };
}

/**
 * A customer has one storage, where its backups are (docs/acronis-api.md §4.4): a change whose
 * profile names another storage would turn that one off. Refused; moving storage is no change.
 */
async function storageProblem(
  deps: ActionEnqueueDeps,
  request: ActionRequest,
  record: CustomerRecord,
): Promise<{ field: string; reason: string } | undefined> {
  const wanted = request.params.profile?.storage.infra_id;
  const tenantId = record.facts.tenantId ?? request.tenantId;
  if (!wanted || !tenantId || !deps.acronis) return undefined;
  const items = await deps.acronis.getOfferingItems(tenantId, { edition: '*', status: 1, type: 'infra' });
  const current = items.find((i) => i.infra_id !== undefined && i.infra_id !== wanted);
  if (!current) return undefined;
  return {
    field: 'profile storage.infra_id',
    reason: `would turn off the customer's only storage (${current.name} on infra ${current.infra_id}, where its backups are) for infra ${wanted}`,
  };
}

export interface QueuedActions {
  batchId: string;
  actions: { id: string; key: string; name: string; action: ActionName }[];
}

/** Queues checked actions as one batch (a CSV, one command). */
export async function enqueueActions(
  deps: ActionEnqueueDeps,
  batch: { action: ActionName; source: string; label: string },
  checked: readonly CheckedAction[],
): Promise<QueuedActions> {
  const { batchId, actionIds } = deps.actions.newIds(checked.length);
  const partners = await Promise.all(checked.map((c) => depsFor(deps, c.record)));
  const job = (i: number) => {
    const c = checked[i] as CheckedAction;
    const steps = actionSteps(c.action, c.params);
    const data = actionJobSchema.parse({
      actionId: actionIds[i],
      batchId,
      customerKey: c.key,
      customerName: c.name,
      requester: c.requester,
      action: c.action,
      partnerTenantId: (partners[i] as ActionEnqueueDeps).partnerTenantId,
      ...(c.record.partner !== undefined ? { partner: c.record.partner } : {}),
      steps,
      params: c.params,
      facts: c.record.facts.tenantId ? { tenantId: c.record.facts.tenantId } : {},
    });
    const first = steps[0] as ActionStepName;
    // Like a chain's first step: prioritized, so customers already under way go first (docs/bullmq.md §1.12).
    return { name: first, data, opts: { jobId: actionJobId(data.actionId, first), priority: FIRST_STEP_PRIORITY } };
  };
  // Each job to its customer's data centre's queue (one queue with one partner), in order.
  const queues = [...new Set(partners.map((p) => p.queue))];
  for (const queue of queues)
    await addInChunks(
      queue as unknown as BulkQueue,
      checked.flatMap((_, i) => (partners[i]?.queue === queue ? [i] : [])),
      job,
    );
  await deps.actions.createBatch(
    { id: batchId, ...batch },
    checked.map((c, i) => ({
      id: actionIds[i] as string,
      customerKey: c.key,
      customerName: c.name,
      action: c.action,
      requester: c.requester,
    })),
  );
  return {
    batchId,
    actions: checked.map((c, i) => ({ id: actionIds[i] as string, key: c.key, name: c.name, action: c.action })),
  };
}

interface BulkQueue {
  addBulk(jobs: unknown[]): Promise<unknown>;
}

/** Small enough that the workers hold their first jobs within milliseconds of the call. */
const FIRST_CHUNK = 16;
const CHUNK = 100;

/**
 * Adds the jobs a few at a time: an addBulk is one MULTI, its jobs visible only when the whole of it
 * has run, so 350 actions in one call kept every worker idle for the 100–270 ms it took to send.
 * The first chunk is small so the first requests leave at once; the order of the jobs is kept. Each
 * chunk's jobs are built (and schema-checked) just before it is sent: a change carries its profile,
 * and checking 350 of them before the first chunk held the first requests back by tens of ms.
 */
async function addInChunks<J>(queue: BulkQueue, indices: readonly number[], job: (i: number) => J): Promise<void> {
  for (let from = 0; from < indices.length;) {
    const size = from === 0 ? FIRST_CHUNK : CHUNK;
    await queue.addBulk(indices.slice(from, from + size).map(job));
    from += size;
  }
}

export type CancelOutcome =
  | { outcome: 'cancelled'; offboard: ActionRecord; resume: QueuedActions }
  | { outcome: 'unknown' | 'nothing-pending' | 'too-late'; reason: string };

/**
 * `offboard --cancel`: within the grace period, the pending delete is called off (a compare-and-set
 * against the delete step taking it) and a resume action queued, which enables the tenant again.
 */
export async function cancelOffboard(
  deps: ActionEnqueueDeps,
  customer: string,
  requester: Requester,
): Promise<CancelOutcome> {
  const found = await findCustomer(deps.store, customer);
  if (!found) return { outcome: 'unknown', reason: `unknown customer "${customer}": ${ADOPT_HINT}` };
  const open = await deps.actions.openActions(found.key);
  const offboard = open.find((a) => a.action === 'offboard');
  if (!offboard) return { outcome: 'nothing-pending', reason: `customer "${customer}" has no offboard pending` };
  const cancelled = await deps.actions.finish(
    { id: offboard.id, customerKey: found.key },
    'cancelled',
    { outcome: `cancelled by ${requester.label}; the tenant is resumed` },
    ['queued', 'waiting', 'pending-deletion'],
  );
  if (!cancelled)
    return {
      outcome: 'too-late',
      reason: `the offboard of "${customer}" is running now (its disable or its delete): not cancelled`,
    };
  // The delete's job is no longer needed; one that starts anyway finds its action ended and does nothing.
  const { queue } = await depsFor(deps, found.record);
  await queue.remove(actionJobId(offboard.id, 'offboard-delete')).catch(() => undefined);
  await queue.remove(actionJobId(offboard.id, 'offboard-disable')).catch(() => undefined);
  const resume = await enqueueActions(deps, { action: 'resume', source: 'offboard --cancel', label: customer }, [
    { ...found, customer, name: found.record.name, action: 'resume', params: {}, requester },
  ]);
  return { outcome: 'cancelled', offboard, resume };
}
