import { stringify } from 'csv-stringify/sync';
import { inertCsvCell } from '../workers/results-csv.js';
import type { CustomerDrift } from './drift.js';
import type { FixOutcome } from './fix.js';
import type { SweepReport } from './sweep.js';

/**
 * What `reconcile` prints (docs/reconcile.md "Output"): a table of the drifting customers with
 * each difference in words, a CSV of one row per difference, or JSON. Text from the API (names,
 * logins) is escaped by the caller for terminals and here for spreadsheets.
 */

export const DRIFT_CSV_COLUMNS = [
  'customer_id',
  'name',
  'batch_id',
  'tenant_id',
  'kind',
  'field',
  'expected',
  'actual',
  'difference',
] as const;

/** One row per difference; a customer without any gets one row with an empty kind. */
export function driftCsv(findings: readonly CustomerDrift[]): string {
  const rows = findings.flatMap((f) => {
    const base = [f.customerId, f.name, f.batchId ?? '', f.tenantId ?? ''];
    if (f.differences.length === 0) return [[...base, '', '', '', '', 'no difference']];
    return f.differences.map((d) => [...base, d.kind, d.field, d.expected, d.actual, d.text]);
  });
  return stringify(
    rows.map((row) => row.map(inertCsvCell)),
    { header: true, columns: [...DRIFT_CSV_COLUMNS] },
  );
}

/** The table: each drifting customer and its differences, then a count of the clean ones. */
export function driftTable(findings: readonly CustomerDrift[]): string[] {
  const lines: string[] = [];
  for (const f of findings.filter((x) => x.differences.length > 0)) {
    lines.push(`${f.customerId}  ${f.name}  tenant ${f.tenantId ?? '-'}${f.partner ? `  partner ${f.partner}` : ''}`);
    for (const d of f.differences) lines.push(`  ${d.kind.padEnd(20)} ${d.text}`);
  }
  const clean = findings.filter((x) => x.differences.length === 0).length;
  if (clean > 0) lines.push(`${clean} customer${clean === 1 ? '' : 's'} read with no difference`);
  return lines;
}

export function fixLines(fixes: readonly FixOutcome[]): string[] {
  return fixes.flatMap((f) => [
    ...(f.queued ? [`${f.customerId}: change ${f.queued.actionId} queued (action batch ${f.queued.batchId})`] : []),
    ...(f.resent ? [`${f.customerId}: activation e-mail: ${f.resent}`] : []),
    ...f.refused.map((r) => `${f.customerId}: not fixed: ${r}`),
    ...f.left.map((l) => `${f.customerId}: ${l.kind} left as is: ${l.reason}`),
  ]);
}

export function summaryLine(report: SweepReport): string {
  const kinds = Object.entries(report.byKind)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return (
    `${report.mode} sweep: ${report.customersChecked} customers read (${report.tenantsChanged} changed or asked), ` +
    `${report.drifting} drifting in all${kinds ? ` (${kinds})` : ''}, ${report.healed} records healed; ` +
    `${report.calls} API calls, ${report.listingPages} of them listing pages`
  );
}
