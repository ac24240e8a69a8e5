import { customerRequestSchema, type CustomerRequest } from '../onboarding/customer-request.js';

/**
 * The header row of a customer CSV (docs/csv.md "The file"): columns in any order, matched
 * to the request's fields case- and space-insensitively. A header is trimmed, lower-cased,
 * and every run of spaces, hyphens or underscores becomes one underscore, so "EMAIL",
 * " email ", "External_ID", "External ID" and "first-name" all match. No other aliases:
 * "E-mail" becomes `e_mail`, an unknown column, and the missing `email` is reported with the
 * columns that were found.
 */

export type CustomerField = Exclude<keyof CustomerRequest, 'quotas'>;
export const CUSTOMER_FIELDS = Object.keys(customerRequestSchema.shape).filter(
  (f) => f !== 'quotas',
) as CustomerField[];
/**
 * A per-customer quota column is `quota <item>` (docs/csv.md "Per-customer quotas"); normalised,
 * `quota_<item>`. Its cells go to the request's `quotas`.
 */
const QUOTA_COLUMN = /^quota_(.+)$/;
export type QuotaColumn = `quota:${string}`;
export const REQUIRED_FIELDS: readonly CustomerField[] = ['name', 'email'];

export function normaliseHeader(header: string): string {
  return header
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');
}

export interface ColumnMap {
  /** For each column of the file, the field it fills (`quota:<item>` for a quota), or null for an unknown column (ignored). */
  fields: (CustomerField | QuotaColumn | null)[];
  /** Unknown columns as written in the file, with their 1-based position. */
  unknown: { column: number; header: string }[];
}

export type HeaderMapping = { ok: true; columns: ColumnMap } | { ok: false; reason: string };

export function mapHeader(header: readonly string[]): HeaderMapping {
  const fields: ColumnMap['fields'] = [];
  const unknown: ColumnMap['unknown'] = [];
  const seen = new Map<CustomerField | QuotaColumn, number>();
  for (const [index, raw] of header.entries()) {
    const field = columnField(normaliseHeader(raw));
    if (field) {
      const earlier = seen.get(field);
      if (earlier !== undefined) {
        return { ok: false, reason: `columns ${earlier + 1} and ${index + 1} both hold "${field}"; keep one` };
      }
      seen.set(field, index);
    } else {
      unknown.push({ column: index + 1, header: raw });
    }
    fields.push(field);
  }
  const missing = REQUIRED_FIELDS.filter((f) => !seen.has(f));
  const single = header.length === 1 ? /[;\t|]/.exec(header[0] ?? '')?.[0] : undefined;
  if (missing.length > 0 && single) {
    const separator = single === '\t' ? 'tabs' : `"${single}"`;
    return {
      ok: false,
      reason: `the header is one column holding ${separator}: fields must be separated by commas (save as "CSV UTF-8 (comma delimited)")`,
    };
  }
  if (missing.length > 0) {
    const found = header.map((h) => JSON.stringify(h.trim())).join(', ');
    return {
      ok: false,
      reason:
        `the header has no ${missing.map((m) => `"${m}"`).join(' or ')} column (required: ${REQUIRED_FIELDS.join(', ')}; ` +
        `found: ${found}; names are matched ignoring case, spaces and hyphens)`,
    };
  }
  return { ok: true, columns: { fields, unknown } };
}

function columnField(name: string): CustomerField | QuotaColumn | null {
  if ((CUSTOMER_FIELDS as readonly string[]).includes(name)) return name as CustomerField;
  const quota = quotaColumnItem(name);
  return quota ? `quota:${quota}` : null;
}

/** The item of a normalised `quota_<item>` header, or undefined for another column. */
export function quotaColumnItem(normalisedHeader: string): string | undefined {
  return QUOTA_COLUMN.exec(normalisedHeader)?.[1];
}
