import type { CustomerRequest } from '../onboarding/customer-request.js';
import type { OnboardingStore } from '../workers/onboarding-store.js';
import type { PartnerMismatchError } from '../workers/enqueue.js';
import { movedPartnerReason, partnerConflicts, partnerOf, type ProducerPartners } from './partner-check.js';
import type { BadRow, CsvValidation } from './csv-import.js';

/**
 * The CSV import's partner checks that need the store (docs/csv.md "Partners"): a row whose
 * customer is recorded under another partner is a bad row, found before the batch exists
 * (first pass) and again just before its chunk is queued (the records may have changed since).
 */

export interface CsvRow {
  line: number;
  key: string;
  request: CustomerRequest;
}

/** Rows are checked this many at a time: one read of the records each. */
export const PARTNER_CHECK_CHUNK = 100;

/** The rows of `rows` whose customer is recorded under another partner, as bad rows. */
export async function movedRows(
  store: Pick<OnboardingStore, 'getCustomers'>,
  partners: ProducerPartners,
  rows: readonly CsvRow[],
): Promise<BadRow[]> {
  const conflicts = await partnerConflicts(
    store,
    partners,
    rows.map((r) => r.request),
  );
  return rows.flatMap((row, i) => {
    const problem = conflicts[i];
    return problem ? [{ line: row.line, problems: [problem] }] : [];
  });
}

/** The bad rows an enqueue refused for their partner (the records changed under the import). */
export function refusedByEnqueue(err: PartnerMismatchError, rows: readonly CsvRow[]): BadRow[] {
  const byKey = new Map(err.mismatches.map((m) => [m.key, m]));
  return rows.flatMap((row) => {
    const m = byKey.get(row.key);
    if (!m) return [];
    return [
      { line: row.line, problems: [{ field: 'partner', reason: movedPartnerReason(m.key, m.recorded, m.asked) }] },
    ];
  });
}

/** A good row found bad: counted, and kept in line order among the first `max`. */
export function addBadRow(validation: CsvValidation, row: BadRow, max: number): void {
  validation.goodRows--;
  validation.badRowCount++;
  validation.badRows.push(row);
  validation.badRows.sort((a, b) => a.line - b.line);
  if (validation.badRows.length > max) validation.badRows.length = max;
}

/** Adds one queued (or planned) row to the count of its partner. */
export function countPartner(
  counts: Record<string, number>,
  request: Pick<CustomerRequest, 'partner'>,
  partners: ProducerPartners,
): void {
  const name = partnerOf(request, partners);
  counts[name] = (counts[name] ?? 0) + 1;
}
