// TEMPORARY: what RECONCILE-CONTRACT.md promises from branch i24-reconcile and has not landed yet
// (src/reconcile/sweep.ts runSweep, src/reconcile/fix.ts enqueueFix); deleted on that merge.
import type { Requester } from './lifecycle/action.js';
import type { SweepSummary } from './reconcile/drift.js';

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

/** Until enqueueFix lands: the dashboard's Fix. */
export function enqueueFixPending(_deps: unknown, _customerId: string, _requester: Requester): Promise<FixOutcome> {
  return Promise.reject(new Error('enqueueFix has not landed from i24-reconcile yet'));
}
