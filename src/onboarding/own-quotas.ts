import type { OfferingItem, OfferingItemChange } from '../acronis/offering-items.js';
import { customerQuotasSchema, type CustomerQuotas } from './customer-request.js';
import { planOfferingItems } from './offering-plan.js';
import type { Profile } from './profile.js';

/**
 * A customer's own quotas over the profile's (docs/lifecycle.md "Per-customer quotas"): the
 * onboarding remembers those it applied, and a change keeps them unless it names new ones or hands
 * an item back to the profile's quota. They are kept by usage_name, the item's name in every
 * edition (docs/acronis-api.md §4.5), so they follow the customer through an edition switch.
 */

/** A quota cell or `--quota item=profile`: the item's own quota goes, the profile's applies. */
export const PROFILE_QUOTA = 'profile';

export function isProfileQuota(value: string): boolean {
  return value.trim().toLowerCase() === PROFILE_QUOTA;
}

/** Quotas a change names, as `item=n` or `item=profile`. */
export type NamedQuotas = { quotas?: CustomerQuotas; resetQuotas?: string[] };

/**
 * Quota cells (a CSV row's `quota <item>` columns, `--quota item=…`) as the quotas a change names
 * and the items it hands back to the profile; the first unreadable cell's item and reason otherwise.
 */
export function parseQuotaCells(
  cells: Readonly<Record<string, string>>,
): { ok: true; named: NamedQuotas } | { ok: false; problems: { item: string; reason: string }[] } {
  const reset = Object.keys(cells).filter((item) => isProfileQuota(cells[item] as string));
  // `profile` parses as 0 only to have its item's name judged with the others'.
  const parsed = customerQuotasSchema.safeParse({ ...cells, ...Object.fromEntries(reset.map((item) => [item, 0])) });
  if (!parsed.success)
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => ({ item: i.path.map(String).join('.'), reason: i.message })),
    };
  const quotas = Object.entries(parsed.data).filter(([item]) => !reset.includes(item));
  return {
    ok: true,
    named: {
      ...(quotas.length > 0 ? { quotas: Object.fromEntries(quotas) } : {}),
      ...(reset.length > 0 ? { resetQuotas: reset } : {}),
    },
  };
}

const matches = (item: OfferingItem, key: string) => item.name === key || item.usage_name === key;

/** The partner's items a plan enables (name and storage). */
function enabledBy(plan: readonly OfferingItemChange[], available: readonly OfferingItem[]): OfferingItem[] {
  return available.filter((i) => plan.some((c) => c.name === i.name && c.infra_id === i.infra_id));
}

/** The usage_name of the enabled item a quota key names, or undefined when it names none. */
function usageNameOf(key: string, enabled: readonly OfferingItem[]): string | undefined {
  return (enabled.find((i) => i.name === key) ?? enabled.find((i) => matches(i, key)))?.usage_name;
}

/** The quotas an onboarding applied, as the customer's own to remember: keyed by usage_name. */
export function ownQuotasOf(
  quotas: CustomerQuotas,
  plan: readonly OfferingItemChange[],
  available: readonly OfferingItem[],
): CustomerQuotas {
  const enabled = enabledBy(plan, available);
  return Object.fromEntries(Object.entries(quotas).map(([key, n]) => [usageNameOf(key, enabled) ?? key, n]));
}

export interface OwnQuotasInput {
  available: readonly OfferingItem[];
  profile: Profile;
  edition: string;
  /** What the customer has of its own so far (its record's `ownQuotas`). */
  kept?: CustomerQuotas | undefined;
  /** New own quotas the change names. */
  named?: CustomerQuotas | undefined;
  /** Items the change hands back to the profile's quota. */
  reset?: readonly string[] | undefined;
}

export interface OwnQuotasPlan {
  /** The items' PUT entries: the profile's, each own quota over its item's. */
  plan: OfferingItemChange[];
  /** The own quotas applied, by usage_name: what the customer has of its own after the change. */
  quotas: CustomerQuotas;
  /** Of those, the ones kept from before (not named by this change). */
  kept: string[];
  /** Kept ones for items the profile does not enable: no longer the customer's. */
  dropped: string[];
  /** Kept ones the change handed back to the profile. */
  reset: string[];
}

/**
 * The profile's items with the customer's own quotas: the kept ones, less those handed back,
 * then those named (a number wins over `profile` for one item). Throws an OfferingPlanError
 * naming the field, as planOfferingItems does, for a named quota the profile does not enable.
 */
export function planOwnQuotas(input: OwnQuotasInput): OwnQuotasPlan {
  const { available, profile, edition } = input;
  const enabled = enabledBy(planOfferingItems({ available, profile, edition }), available);
  const quotas: CustomerQuotas = {};
  const dropped: string[] = [];
  const reset: string[] = [];
  for (const [key, n] of Object.entries(input.kept ?? {})) {
    const usage = usageNameOf(key, enabled);
    if (usage === undefined) dropped.push(key);
    else quotas[usage] = n;
  }
  const kept = new Set(Object.keys(quotas));
  for (const key of input.reset ?? []) {
    const usage = usageNameOf(key, enabled) ?? key;
    if (kept.delete(usage)) reset.push(usage);
    delete quotas[usage];
  }
  for (const [key, n] of Object.entries(input.named ?? {})) {
    // A named item the profile does not enable keeps its key: the plan names it in its refusal.
    const usage = usageNameOf(key, enabled) ?? key;
    kept.delete(usage);
    quotas[usage] = n;
  }
  const plan = planOfferingItems({ available, profile, edition, customerQuotas: quotas });
  return { plan, quotas, kept: [...kept], dropped, reset };
}

/** What a change did to the customer's own quotas, in words for its outcome; undefined when it had and has none. */
export function ownQuotasNote(own: Omit<OwnQuotasPlan, 'plan'>): string | undefined {
  const parts: string[] = [];
  const entries = Object.entries(own.quotas);
  if (entries.length > 0)
    parts.push(`own quotas ${entries.map(([k, n]) => `${k}=${n}${own.kept.includes(k) ? ' (kept)' : ''}`).join(', ')}`);
  for (const k of own.reset) parts.push(`${k} back to the profile's quota`);
  for (const k of own.dropped) parts.push(`own quota ${k} dropped: the profile does not enable it`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}
