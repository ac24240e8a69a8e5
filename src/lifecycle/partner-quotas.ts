import type { OfferingItem, OfferingItemChange } from '../acronis/offering-items.js';
import { PROFILE_QUOTA } from '../onboarding/own-quotas.js';

/**
 * A change may not promise a customer more of an item than the partner itself was given: each
 * quota of the change's plan (the customer's own, named or kept, or the profile's) against the partner's own
 * item's quota `value` (null: unlimited). Checked before anything is queued (docs/lifecycle.md).
 */
export interface QuotaProblem {
  field: string;
  reason: string;
}

const keyOf = (item: { name: string; infra_id?: string | undefined }) => `${item.name}@${item.infra_id ?? ''}`;

export function quotasOverPartner(
  plan: readonly OfferingItemChange[],
  partnerItems: readonly OfferingItem[],
  customerQuotas: Readonly<Record<string, number>> = {},
  /** Keys of customerQuotas kept from before rather than named by the change. */
  kept: readonly string[] = [],
): QuotaProblem[] {
  const partnerByKey = new Map(partnerItems.map((i) => [keyOf(i), i]));
  const problems: QuotaProblem[] = [];
  for (const change of plan) {
    const wanted = change.quota?.value;
    const partner = partnerByKey.get(keyOf(change));
    const ceiling = partner?.quota?.value;
    if (wanted === null || wanted === undefined || ceiling === null || ceiling === undefined || wanted <= ceiling)
      continue;
    // The customer's own quota is keyed by the item's name or its usage_name, as it was written.
    const own = [change.name, partner?.usage_name].find((k) => k !== undefined && customerQuotas[k] !== undefined);
    const over = `over the partner's own quota of ${ceiling} for ${change.name}`;
    problems.push({
      field: own ? `quotas.${own}` : `profile offering_items.quotas.${change.name}`,
      reason:
        own && kept.includes(own)
          ? `its own quota of ${wanted}, kept from its onboarding or an earlier change, is ${over}: give a lower one, or "${PROFILE_QUOTA}" for the profile's`
          : `${wanted} is ${over}`,
    });
  }
  return problems;
}
