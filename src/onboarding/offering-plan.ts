import type { OfferingItem, OfferingItemChange } from '../acronis/offering-items.js';
import type { Profile } from './profile.js';

/**
 * Which offering items a new customer gets: pure functions from what the partner offers
 * (available_for_child) and the profile to the body of PUT /tenants/{id}/offering_items.
 */

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

/**
 * The profile's items of one edition, with their quotas and exactly one storage:
 * "for a customer tenant, only one storage can be enabled" (ACRONIS-API.md §4.4). Storage
 * is always enabled, named in `include` or not — a customer cannot back up without one.
 */
export function planOfferingItems(input: { available: readonly OfferingItem[]; profile: Profile; edition: string }): OfferingItemChange[] {
  const { profile, edition } = input;
  const candidates = input.available.filter((i) => i.edition === edition || i.edition === null);
  const include = profile.offering_items.include;
  for (const entry of include ?? []) {
    if (!candidates.some((i) => matches(i, entry))) {
      throw new OfferingPlanError('offering_items.include', `"${entry}" matches no item offered for edition ${edition}`);
    }
  }
  const storage = chooseStorage(candidates, profile, edition);
  const wanted = candidates.filter((i) => {
    if (i.type === 'infra') return i.infra_id === storage;
    return !include || include.some((entry) => matches(i, entry));
  });
  // One entry per name and infra: the catalogue lists an infra item once per infra.
  const unique = [...new Map(wanted.map((i) => [`${i.name}@${i.infra_id ?? ''}`, i])).values()];
  const quotas = Object.entries(profile.offering_items.quotas ?? {});
  for (const [key] of quotas) {
    if (!unique.some((i) => matches(i, key))) throw new OfferingPlanError(`offering_items.quotas.${key}`, `matches no item enabled for edition ${edition}`);
  }
  return unique.map((item) => {
    const quota = quotas.find(([key]) => matches(item, key))?.[1];
    return change(item, quota ? { value: quota.value, overage: quota.overage } : undefined);
  });
}

function chooseStorage(candidates: readonly OfferingItem[], profile: Profile, edition: string): string {
  const infraIds = [...new Set(candidates.filter((i) => i.type === 'infra' && i.infra_id).map((i) => i.infra_id as string))];
  const wanted = profile.storage.infra_id;
  if (wanted) {
    if (!infraIds.includes(wanted)) {
      throw new OfferingPlanError('storage.infra_id', `storage ${wanted} is not offered for edition ${edition} (offered: ${infraIds.join(', ') || 'none'})`);
    }
    return wanted;
  }
  const first = infraIds[0];
  if (!first) throw new OfferingPlanError('storage', `the partner offers no storage for edition ${edition}`);
  return first;
}

/**
 * "Same configuration as my sample customer": the template's enabled items of every
 * edition, with their quotas and its one storage.
 */
export function planFromTemplate(templateItems: readonly OfferingItem[], templateTenantId: string): OfferingItemChange[] {
  const enabled = templateItems.filter((i) => i.status === 1);
  if (enabled.length === 0) throw new OfferingPlanError('template_tenant_id', `tenant ${templateTenantId} has no enabled offering items to copy`);
  return enabled.map((item) => change(item, item.quota ? { value: item.quota.value, overage: item.quota.overage } : undefined));
}

/** Problems a worker reports at start, before any customer runs into them; each names the profile field. */
export function checkProfileAgainstOffer(
  profile: Profile,
  availableByEdition: Record<string, readonly OfferingItem[]>,
): { field: string; reason: string }[] {
  const problems: { field: string; reason: string }[] = [];
  for (const edition of profile.editions) {
    try {
      planOfferingItems({ available: availableByEdition[edition] ?? [], profile, edition });
    } catch (err) {
      if (err instanceof OfferingPlanError) problems.push({ field: err.field, reason: err.reason });
      else throw err;
    }
  }
  return problems;
}

/**
 * A PUT entry with only the keys the OAS item declares. Quota version 0 means "new"
 * (ACRONIS-API.md §4.4), which also makes the PUT safe to repeat.
 */
function change(item: OfferingItem, quota: { value: number | null; overage: number | null } | undefined): OfferingItemChange {
  return {
    application_id: item.application_id,
    name: item.name,
    status: 1,
    ...(item.infra_id ? { infra_id: item.infra_id } : {}),
    ...(quota ? { quota: { value: quota.value, overage: quota.value === null ? null : quota.overage, version: 0 } } : {}),
  };
}
