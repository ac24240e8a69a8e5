import type { DriftStore } from '../reconcile/drift-store.js';
import type { FixOutcome } from '../reconcile/fix.js';
import type { CustomerDrift, SweepSummary } from '../reconcile/drift.js';
import { durationWords } from '../text/duration.js';
import { plural } from '../text/plural.js';
import { SWEEP_SCHEDULER_ID, type ReconcileQueue } from '../workers/reconcile-queue.js';
import { durationText } from './batch-view.js';

/**
 * What the Drift page shows (docs/reconcile.md "Drift page"): the last sweep in a line, when the
 * next one is due, and the customers whose tenant differs from their profile, each difference in
 * the sweep's words.
 */
export const DRIFT_PAGE_LIMIT = 200;

export interface DriftPageModel {
  lastSweep?: SweepView;
  /** "every 1 d, next at 2026-12-07 03:00:00 UTC", or that no scheduled sweep runs. */
  scheduleText: string;
  customers: DriftRow[];
  /** How many customers drift in all; the page shows the DRIFT_PAGE_LIMIT checked most recently. */
  drifting: number;
  countText: string;
}

export interface SweepView {
  finishedAt: string;
  mode: SweepSummary['mode'];
  calls: number;
  listingPages: number;
  durationText: string;
  customersChecked: number;
  tenantsChanged: number;
  drifting: number;
  /** "1 record healed", "3 records healed". */
  healedText: string;
  byKind: { kind: string; count: number }[];
}

export interface DriftRow {
  key: string;
  name: string;
  batchId?: string;
  tenantId?: string;
  checkedAt: string;
  differences: { kind: string; text: string }[];
}

export interface DriftPageDeps {
  drift: Pick<DriftStore, 'list' | 'lastSweep' | 'driftingCount'>;
  reconcile: Pick<ReconcileQueue, 'getJobScheduler'>;
}

export async function driftPageModel(deps: DriftPageDeps): Promise<DriftPageModel> {
  const [summary, drifts, drifting, scheduler] = await Promise.all([
    deps.drift.lastSweep(),
    deps.drift.list({ onlyDrifting: true, limit: DRIFT_PAGE_LIMIT }),
    deps.drift.driftingCount(),
    deps.reconcile.getJobScheduler(SWEEP_SCHEDULER_ID),
  ]);
  return {
    ...(summary ? { lastSweep: sweepView(summary) } : {}),
    scheduleText: scheduleText(scheduler),
    customers: drifts.map(driftRow),
    drifting,
    countText: countText(drifting, drifts.length),
  };
}

function sweepView(s: SweepSummary): SweepView {
  return {
    finishedAt: new Date(s.finishedAt).toISOString(),
    mode: s.mode,
    calls: s.calls,
    listingPages: s.listingPages,
    durationText: durationText(s.finishedAt - s.startedAt),
    customersChecked: s.customersChecked,
    tenantsChanged: s.tenantsChanged,
    drifting: s.drifting,
    healedText: `${plural(s.healed, 'record')} healed`,
    byKind: Object.entries(s.byKind)
      .filter(([, count]) => count > 0)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, count]) => ({ kind, count })),
  };
}

function driftRow(d: CustomerDrift): DriftRow {
  return {
    key: d.customerId,
    name: d.name,
    ...(d.batchId ? { batchId: d.batchId } : {}),
    ...(d.tenantId ? { tenantId: d.tenantId } : {}),
    checkedAt: new Date(d.checkedAt).toISOString(),
    differences: d.differences.map(({ kind, text }) => ({ kind, text })),
  };
}

function scheduleText(scheduler: { every?: number | null; next?: number } | undefined): string {
  if (!scheduler?.every) return 'no scheduled sweep (RECONCILE_EVERY=0, or no `work` has started yet)';
  const next = scheduler.next
    ? `, next at ${new Date(scheduler.next).toISOString().replace('T', ' ').slice(0, 19)} UTC`
    : '';
  return `a sweep every ${durationWords(scheduler.every)}${next}`;
}

function countText(drifting: number, shown: number): string {
  if (drifting === 0) return 'no customer differs from its profile';
  const all = `${plural(drifting, 'customer')} ${drifting === 1 ? 'differs' : 'differ'} from ${drifting === 1 ? 'its' : 'their'} profile`;
  return shown < drifting ? `${all}; the ${shown.toLocaleString('en-US')} checked most recently are shown` : all;
}

/** What Fix did for a customer, in one notice: what was queued or resent, refused, and left for a person. */
export function fixNotice(outcome: FixOutcome): string {
  const parts = [
    ...(outcome.queued ? [`change queued (action ${outcome.queued.actionId})`] : []),
    ...(outcome.resent ? [`activation e-mail: ${outcome.resent}`] : []),
    ...outcome.refused.map((reason) => `not queued: ${reason}`),
    ...outcome.left.map(({ kind, reason }) => `${kind}: ${reason}`),
  ];
  const what = parts.length > 0 ? parts.join('; ') : 'nothing to fix: the last sweep found no difference';
  return `Fix ${outcome.customerId}: ${what}`;
}
