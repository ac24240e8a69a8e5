import { customerRequestSchema, type CustomerRequest } from '../onboarding/customer-request.js';

/**
 * The header row of a customer CSV (docs/csv.md "The file"): columns in any order, matched
 * to the request's fields case- and space-insensitively. A header is trimmed, lower-cased,
 * and every run of spaces, hyphens or underscores becomes one underscore, so "EMAIL",
 * " email ", "External_ID", "External ID" and "first-name" all match. No other aliases:
 * "E-mail" becomes `e_mail`, an unknown column, and the missing `email` is reported with the
 * columns that were found.
 */

export type CustomerField = keyof CustomerRequest;
export const CUSTOMER_FIELDS = Object.keys(customerRequestSchema.shape) as CustomerField[];
export const REQUIRED_FIELDS: readonly CustomerField[] = ['name', 'email'];

export function normaliseHeader(header: string): string {
  return header
    .trim()
    .toLowerCase()
    .replace(/[\s_-]+/g, '_');
}

export interface ColumnMap {
  /** For each column of the file, the field it fills, or null for an unknown column (ignored). */
  fields: (CustomerField | null)[];
  /** Unknown columns as written in the file, with their 1-based position. */
  unknown: { column: number; header: string }[];
}

export type HeaderMapping = { ok: true; columns: ColumnMap } | { ok: false; reason: string };

export function mapHeader(header: readonly string[]): HeaderMapping {
  const fields: ColumnMap['fields'] = [];
  const unknown: ColumnMap['unknown'] = [];
  const seen = new Map<CustomerField, number>();
  for (const [index, raw] of header.entries()) {
    const name = normaliseHeader(raw);
    const field = (CUSTOMER_FIELDS as readonly string[]).includes(name) ? (name as CustomerField) : null;
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
