// TEMPORARY: the contract's types (RECONCILE-CONTRACT.md) until branch i24-reconcile lands
// src/reconcile/drift.ts, drift-store.ts, sweep.ts and fix.ts; deleted on that merge.
import { z } from 'zod';
import type { Requester } from './lifecycle/action.js';

export const DRIFT_KINDS = [
  'tenant-missing',
  'tenant-disabled',
  'tenant-enabled',
  'pricing',
  'edition',
  'offering-items',
  'quota',
  'storage',
  'admin-missing',
  'admin-not-activated',
  'admin-role',
  'mfa',
  'no-agent',
  'record-healed',
] as const;
export type DriftKind = (typeof DRIFT_KINDS)[number];
export const differenceSchema = z.object({
  kind: z.enum(DRIFT_KINDS),
  field: z.string(),
  expected: z.string(),
  actual: z.string(),
  text: z.string(),
});
export const funnelFactsSchema = z.object({
  created: z.boolean(),
  activated: z.boolean(),
  agentRegistered: z.boolean(),
});
export const customerDriftSchema = z.object({
  customerId: z.string(),
  name: z.string(),
  batchId: z.string().optional(),
  tenantId: z.string().optional(),
  checkedAt: z.number(),
  differences: z.array(differenceSchema),
  funnel: funnelFactsSchema,
});
export type CustomerDrift = z.infer<typeof customerDriftSchema>;
export const sweepSummarySchema = z.object({
  startedAt: z.number(),
  finishedAt: z.number(),
  mode: z.enum(['full', 'incremental']),
  listingPages: z.number(),
  calls: z.number(),
  tenantsChanged: z.number(),
  customersChecked: z.number(),
  drifting: z.number(),
  healed: z.number(),
  byKind: z.record(z.string(), z.number()),
});
export type SweepSummary = z.infer<typeof sweepSummarySchema>;

export interface FunnelCounts {
  customers: number;
  created: number;
  activated: number;
  agentRegistered: number;
  checkedAt: number | null;
}

export interface DriftStore {
  get(customerId: string): Promise<CustomerDrift | null>;
  list(opts?: { onlyDrifting?: boolean; limit?: number }): Promise<CustomerDrift[]>;
  lastSweep(): Promise<SweepSummary | null>;
  funnel(batchId: string): Promise<FunnelCounts>;
}

export interface FixOutcome {
  outcome: string;
  text: string;
}
export type EnqueueFix = (customerId: string, requester: Requester) => Promise<FixOutcome>;
export type RunSweep = (opts: { full?: boolean; fix?: boolean; customerIds?: string[] }) => Promise<SweepSummary>;

/** Until runSweep lands: App.sweepExclusively's sweep. */
export function runSweepPending(_deps: unknown, _opts: Parameters<RunSweep>[0]): Promise<SweepSummary> {
  return Promise.reject(new Error('runSweep has not landed from i24-reconcile yet'));
}
