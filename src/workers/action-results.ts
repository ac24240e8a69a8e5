import { stringify } from 'csv-stringify/sync';
import type { ActionRecord } from './action-store.js';
import { inertCsvCell } from './results-csv.js';

/**
 * What `results` gives for a batch of lifecycle actions (docs/lifecycle.md "Results"): each
 * customer, the action, where it ended and in words what it did; an offboard lists when its
 * tenant was disabled and when it will be (or was) deleted.
 */
export const ACTION_RESULT_COLUMNS = [
  'customer',
  'name',
  'action',
  'state',
  'outcome',
  'requested_by',
  'tenant_id',
  'started_at',
  'finished_at',
  'delete_at',
  'error',
] as const;
export type ActionResult = Record<(typeof ACTION_RESULT_COLUMNS)[number], string>;

export function actionResult(action: ActionRecord): ActionResult {
  return {
    customer: action.customerKey,
    name: action.customerName,
    action: action.action,
    state: action.state,
    outcome: action.outcome ?? '',
    requested_by: `${action.requesterKind}: ${action.requester}`,
    tenant_id: action.facts.tenantId ?? '',
    started_at: action.startedAt ?? '',
    finished_at: action.finishedAt ?? '',
    delete_at: action.deleteAt ?? '',
    error: action.error ?? '',
  };
}

export function actionResultsCsv(rows: readonly ActionResult[]): string {
  const inert = rows.map((row) => ACTION_RESULT_COLUMNS.map((column) => inertCsvCell(row[column])));
  return stringify(inert, { header: true, columns: ACTION_RESULT_COLUMNS });
}
