import { stringify } from 'csv-stringify/sync';
import { PARTNER_RESULT_COLUMNS, RESULT_COLUMNS, type CustomerResult } from './results.js';

/**
 * `results` as CSV, for `results --format csv` and the dashboard's download. A spreadsheet reads
 * a cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return as a formula (CSV
 * injection): a customer named `=HYPERLINK(…)`, or a generated password that starts with `=`,
 * would run. Such a cell gets a leading `'`, which makes it text; the JSON output is verbatim.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function inertCsvCell(value: string): string {
  return FORMULA_START.test(value) ? `'${value}` : value;
}

/** Rows that name their partner (an install with several) get the partner and data_center columns after the name. */
export function resultsCsv(rows: readonly CustomerResult[]): string {
  const columns = rows.some((row) => row.partner !== undefined) ? PARTNER_RESULT_COLUMNS : RESULT_COLUMNS;
  const inert = rows.map((row) => columns.map((column) => inertCsvCell(String(row[column] ?? ''))));
  return stringify(inert, { header: true, columns });
}
