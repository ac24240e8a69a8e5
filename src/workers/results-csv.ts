import { stringify } from 'csv-stringify/sync';
import { RESULT_COLUMNS, type CustomerResult } from './results.js';

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

export function resultsCsv(rows: readonly CustomerResult[]): string {
  const inert = rows.map((row) => RESULT_COLUMNS.map((column) => inertCsvCell(String(row[column]))));
  return stringify(inert, { header: true, columns: RESULT_COLUMNS });
}
