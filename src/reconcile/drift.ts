import { z } from 'zod';

/**
 * What a sweep found about one customer of the install: each way its tenant differs from its
 * profile and from what the install recorded, in words, and the onboarding funnel's facts
 * (docs/reconcile.md "What reconcile compares").
 */

export const DRIFT_KINDS = [
  /** The record says onboarded; no tenant carries our customer_id. */
  'tenant-missing',
  /** Disabled while no suspend or offboard of ours says so. */
  'tenant-disabled',
  /** Enabled while a suspend or offboard of ours says it should be disabled. */
  'tenant-enabled',
  'pricing',
  'edition',
  /** An item the profile enables is off, or one it leaves out is on. */
  'offering-items',
  /** A quota differs from the profile and the customer's own quotas. */
  'quota',
  /** Not exactly the one storage the profile names. */
  'storage',
  'admin-missing',
  'admin-not-activated',
  'admin-role',
  'mfa',
  /** No agent registered (from usages): a funnel fact, also shown as drift. */
  'no-agent',
  /** The tenant exists with our customer_id but the record said queued, failed or nothing: rebuilt. */
  'record-healed',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];

export const differenceSchema = z.object({
  kind: z.enum(DRIFT_KINDS),
  /** What differs, e.g. `quota:storage`, `admin:role`. */
  field: z.string(),
  expected: z.string(),
  actual: z.string(),
  /** The difference in words, for people (untrusted parts escaped where shown). */
  text: z.string(),
});
export type Difference = z.infer<typeof differenceSchema>;

export const funnelFactsSchema = z.object({
  created: z.boolean(),
  activated: z.boolean(),
  agentRegistered: z.boolean(),
});
export type FunnelFacts = z.infer<typeof funnelFactsSchema>;

export const customerDriftSchema = z.object({
  customerId: z.string(),
  name: z.string(),
  batchId: z.string().optional(),
  tenantId: z.string().optional(),
  /** Its partner, when the install serves several (docs/partners.md). */
  partner: z.string().optional(),
  /** When the tenant was last read (ms). */
  checkedAt: z.number(),
  differences: z.array(differenceSchema),
  funnel: funnelFactsSchema,
});
export type CustomerDrift = z.infer<typeof customerDriftSchema>;

export const sweepSummarySchema = z.object({
  startedAt: z.number(),
  finishedAt: z.number(),
  mode: z.enum(['full', 'incremental']),
  /** Pages of the tenants listing read. */
  listingPages: z.number(),
  /** Every Acronis call the sweep made, listing pages included. */
  calls: z.number(),
  /** Customers whose tenant's `updated_at` moved since the last sweep (all of them on the first). */
  tenantsChanged: z.number(),
  customersChecked: z.number(),
  /** Customers with at least one difference after the sweep. */
  drifting: z.number(),
  /** Records rebuilt from the API. */
  healed: z.number(),
  /** Customers by drift kind. */
  byKind: z.record(z.string(), z.number()),
});
export type SweepSummary = z.infer<typeof sweepSummarySchema>;

/** Whether a finding shows a difference worth acting on (a healed record is told, not a drift left). */
export function isDrifting(drift: CustomerDrift): boolean {
  return drift.differences.some((d) => d.kind !== 'record-healed');
}
