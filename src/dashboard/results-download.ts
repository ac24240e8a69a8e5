import { resultsCsv } from '../workers/results-csv.js';
import type { CustomerResult } from '../workers/results.js';

/**
 * The results download: the same rows as `acronis-onboard results`, in CSV (formula-looking
 * cells made inert) or JSON. The admin password and the agent registration token, and the
 * install commands that contain the token, are left empty unless a signed-in user asked to
 * reveal them (a POST with the CSRF token, logged with who asked).
 */
export const SECRET_COLUMNS = ['password', 'registration_token', 'install_windows', 'install_linux'] as const;

export type ResultsFormat = 'csv' | 'json';

export function withoutSecrets(rows: readonly CustomerResult[]): CustomerResult[] {
  return rows.map((row) => ({ ...row, ...Object.fromEntries(SECRET_COLUMNS.map((column) => [column, ''])) }));
}

export function resultsFile(
  batchId: string,
  rows: readonly CustomerResult[],
  format: ResultsFormat,
): { body: string; contentType: string; filename: string } {
  if (format === 'json') {
    return {
      body: `${JSON.stringify(rows, null, 2)}\n`,
      contentType: 'application/json; charset=utf-8',
      filename: `results-${batchId}.json`,
    };
  }
  return { body: resultsCsv(rows), contentType: 'text/csv; charset=utf-8', filename: `results-${batchId}.csv` };
}
