import type { OfferingItem, OfferingItemChange, Quota } from '../acronis/offering-items.js';
import type { Profile } from './profile.js';

/**
 * Which offering items a new customer gets: pure functions from what the partner offers
 * (available_for_child) and the profile to the body of PUT /tenants/{id}/offering_items.
 */

export interface PlanProblem {
  /** The profile field to change, e.g. `offering_items.include` or `storage.infra_id`. */
  field: string;
  reason: string;
}

export class OfferingPlanError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${field}: ${reason}`);
    this.name = 'OfferingPlanError';
  }
}

const matches = (item: OfferingItem, key: string) => item.name === key || item.usage_name === key;
const itemKey = (item: OfferingItem) => `${item.name}@${item.infra_id ?? ''}`;
const distinct = <T>(list: readonly T[]) => [...new Set(list)];

/**
 * The profile's items of one edition, with their quotas and exactly one storage:
 * "for a customer tenant, only one storage can be enabled" (docs/acronis-api.md §4.4). Storage
 * is enabled whether `include` names it or not — a customer cannot back up without one.
 * Throws an OfferingPlanError naming the profile field at the first problem.
 */
export function planOfferingItems(input: {
  available: readonly OfferingItem[];
  profile: Profile;
  edition: string;
  /** The customer's own quotas (its request's `quotas`): hard quotas over the profile's. */
  customerQuotas?: Readonly<Record<string, number>>;
}): OfferingItemChange[] {
  const { changes, problems } = plan(input.available, input.profile, input.edition, input.customerQuotas);
  const [problem] = problems;
  if (problem) throw new OfferingPlanError(problem.field, problem.reason);
  return changes;
}

function plan(
  available: readonly OfferingItem[],
  profile: Profile,
  edition: string,
  customerQuotas: Readonly<Record<string, number>> = {},
): { changes: OfferingItemChange[]; problems: PlanProblem[] } {
  // Editionless items (local_storage, compute_points) go with every edition (docs/acronis-api.md §4.3).
  const candidates = available.filter((i) => i.edition === edition || i.edition === null);
  const include = profile.offering_items.include;
  const included = (item: OfferingItem) => !include || include.some((entry) => matches(item, entry));
  const { infraId, storage, problems } = chooseStorage(candidates, profile, edition, included);
  problems.push(...includeProblems(candidates, include, edition, infraId));

  const chosen = new Set([...candidates.filter((i) => i.type !== 'infra' && included(i)), ...storage].map(itemKey));
  // Keep the partner's order; one entry per name and infra.
  const selected = [...new Map(candidates.filter((i) => chosen.has(itemKey(i))).map((i) => [itemKey(i), i])).values()];
  const quotas = profile.offering_items.quotas ?? {};
  problems.push(...quotaProblems(Object.keys(quotas), candidates, selected, edition));
  problems.push(...customerQuotaProblems(Object.keys(customerQuotas), selected, edition));
  const changes = selected.map((item) => {
    // A quota keyed by the exact name wins over one keyed by the usage_name; the customer's over the profile's.
    const prepaid = customerQuotas[item.name] ?? customerQuotas[item.usage_name];
    // A prepaid quantity is a hard limit at exactly that many: overage 0 (docs/acronis-api.md §4.2).
    if (prepaid !== undefined) return change(item, { value: prepaid, overage: 0 });
    const quota = quotas[item.name] ?? quotas[item.usage_name];
    return change(item, quota && { value: quota.value, overage: quota.overage });
  });
  return { changes, problems };
}

/** The customer's one storage: the profile's infra or the first offered, and its items the profile includes. */
function chooseStorage(
  candidates: readonly OfferingItem[],
  profile: Profile,
  edition: string,
  included: (item: OfferingItem) => boolean,
): { infraId: string | undefined; storage: OfferingItem[]; problems: PlanProblem[] } {
  const problems: PlanProblem[] = [];
  // An infra item without infra_id cannot be PUT (the API needs the pair), so it is no storage.
  const storageItems = candidates.filter((i) => i.type === 'infra' && i.infra_id !== undefined);
  const infraIds = distinct(storageItems.map((i) => i.infra_id as string));
  const wanted = profile.storage.infra_id;
  let infraId: string | undefined;
  if (infraIds.length === 0) {
    const reason = `the partner offers no storage for edition ${edition}; a customer cannot back up without one`;
    problems.push({ field: 'storage', reason });
  } else if (wanted !== null && !infraIds.includes(wanted)) {
    const reason = `infra ${wanted} offers no storage for edition ${edition} (offered: ${infraIds.join(', ')})`;
    problems.push({ field: 'storage.infra_id', reason });
  } else {
    infraId = wanted ?? infraIds[0];
  }
  const onInfra = [...new Map(storageItems.filter((i) => i.infra_id === infraId).map((i) => [i.name, i])).values()];
  let storage = onInfra.filter(included);
  if (storage.length === 0) {
    const fallback = onInfra.find((i) => i.usage_name === 'storage') ?? onInfra[0];
    storage = fallback ? [fallback] : [];
  }
  return { infraId, storage, problems };
}

/** Include entries that match nothing offered, or only storage items on another infra than the customer's one. */
function includeProblems(
  candidates: readonly OfferingItem[],
  include: readonly string[] | undefined,
  edition: string,
  infraId: string | undefined,
): PlanProblem[] {
  const problems: PlanProblem[] = [];
  for (const entry of include ?? []) {
    const hits = candidates.filter((i) => matches(i, entry));
    if (hits.length === 0) {
      const reason = `"${entry}" matches no offering item offered for edition ${edition}`;
      problems.push({ field: 'offering_items.include', reason });
    }
  }
  if (infraId === undefined) return problems;
  for (const entry of include ?? []) {
    const hits = candidates.filter((i) => matches(i, entry));
    if (hits.length > 0 && hits.every((i) => i.type === 'infra') && !hits.some((i) => i.infra_id === infraId)) {
      const where = distinct(hits.map((i) => i.infra_id ?? '?')).join(', ');
      const reason = `"${entry}" is offered only on infra ${where}, not on the customer's one storage ${infraId} (storage.infra_id)`;
      problems.push({ field: 'offering_items.include', reason });
    }
  }
  return problems;
}

const unmatched = (keys: readonly string[], selected: readonly OfferingItem[]) =>
  keys.filter((key) => !selected.some((i) => matches(i, key)));

/** The profile's quota keys that name no enabled item. */
function quotaProblems(
  keys: readonly string[],
  candidates: readonly OfferingItem[],
  selected: readonly OfferingItem[],
  edition: string,
): PlanProblem[] {
  return unmatched(keys, selected).map((key) => ({
    field: `offering_items.quotas.${key}`,
    reason: candidates.some((i) => matches(i, key))
      ? `names an item that is not enabled for edition ${edition}; add it to offering_items.include`
      : `matches no offering item offered for edition ${edition}`,
  }));
}

/** A customer's quota keys (its request's `quotas`) that name no item the profile enables for its edition. */
function customerQuotaProblems(
  keys: readonly string[],
  selected: readonly OfferingItem[],
  edition: string,
): PlanProblem[] {
  const enabled = selected.map((i) => i.name).join(', ');
  return unmatched(keys, selected).map((key) => ({
    field: `quotas.${key}`,
    reason: `names no item the profile enables for edition ${edition} (enabled: ${enabled})`,
  }));
}

/**
 * "Same configuration as my sample customer": the template's enabled items of every
 * edition, with their quotas (as new: version 0) and its storage.
 */
export function planFromTemplate(
  templateItems: readonly OfferingItem[],
  templateTenantId: string,
): OfferingItemChange[] {
  const enabled = [...new Map(templateItems.filter((i) => i.status === 1).map((i) => [itemKey(i), i])).values()];
  if (enabled.length === 0) {
    throw new OfferingPlanError(
      'template_tenant_id',
      `tenant ${templateTenantId} has no enabled offering items to copy`,
    );
  }
  // The platform accepted the template's set, so it is copied as it is; but a template
  // without storage is almost certainly the wrong tenant: its copies could not back up.
  if (!enabled.some((i) => i.type === 'infra')) {
    throw new OfferingPlanError(
      'template_tenant_id',
      `tenant ${templateTenantId} has no storage enabled; its copies could not back up`,
    );
  }
  return enabled.map((item) => change(item, item.quota && { value: item.quota.value, overage: item.quota.overage }));
}

/**
 * Problems a worker reports at start, before any customer runs into them: for every edition
 * of the profile, the include entries and quota keys that match nothing, a storage infra
 * that is not offered, no storage at all. Each names the profile field; empty = fine.
 * A template profile copies an existing customer instead: its check needs that tenant's
 * items, so nothing is checked here.
 */
export function checkProfileAgainstOffer(
  profile: Profile,
  availableByEdition: Readonly<Record<string, readonly OfferingItem[]>>,
): PlanProblem[] {
  if (profile.template_tenant_id !== null) return [];
  const problems: PlanProblem[] = [];
  for (const edition of profile.editions) {
    const available = availableByEdition[edition] ?? [];
    if (available.length === 0) {
      problems.push({ field: 'editions', reason: `the partner offers nothing of edition ${edition} to customers` });
      continue;
    }
    problems.push(...plan(available, profile, edition).problems);
  }
  return problems;
}

/**
 * A PUT entry with only the keys the OAS item declares. Quota version 0 means "new"
 * (docs/acronis-api.md §4.4), which also makes the PUT safe to repeat; `value: null`
 * (unlimited) has no overage (§4.2).
 */
function change(item: OfferingItem, quota: Pick<Quota, 'value' | 'overage'> | undefined): OfferingItemChange {
  return {
    application_id: item.application_id,
    name: item.name,
    status: 1,
    ...(item.infra_id !== undefined ? { infra_id: item.infra_id } : {}),
    ...(quota
      ? { quota: { value: quota.value, overage: quota.value === null ? null : quota.overage, version: 0 } }
      : {}),
  };
}
