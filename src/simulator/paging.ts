import { z } from 'zod';
import { badRequest } from './errors.js';

/**
 * Cursor paging (docs/acronis-api.md §9.4): the cursor encodes every filter, in padded base64 so that
 * a client that does not URL-encode it breaks here as against the real API.
 */

export function encodeCursor(payload: unknown): string {
  return Buffer.from(JSON.stringify(payload), 'utf8').toString('base64');
}

export function decodeCursor<T>(cursor: string, schema: z.ZodType<T>): T {
  try {
    const text = Buffer.from(cursor, 'base64').toString('utf8');
    const parsed = schema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through to the 400 below
  }
  throw badRequest(`'after' is not a valid cursor: "${cursor}"`);
}

/** A position in a sorted list: numbers compare as numbers, strings as names do (case-insensitively). */
export type PageKey = (number | string)[];
export const PageKeySchema = z.array(z.union([z.number(), z.string()]));

const names = new Intl.Collator('en', { sensitivity: 'base' });

export function compareKeys(a: PageKey, b: PageKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    const diff = typeof x === 'string' && typeof y === 'string' ? names.compare(x, y) : Number(x) - Number(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

/**
 * One page of `items` sorted by `key` (ascending, or descending), starting after `afterKey`.
 * `next` is the key to put in the next cursor, or null on the last page. A key holds the
 * item's sort values, not its position, so a tenant created between two pages shifts nothing.
 */
export function paginate<T>(
  items: T[],
  key: (item: T) => PageKey,
  limit: number,
  afterKey: PageKey | null,
  descending = false,
): { page: T[]; next: PageKey | null } {
  const sign = descending ? -1 : 1;
  const keyed = items.map((item) => ({ item, key: key(item) }));
  keyed.sort((a, b) => sign * compareKeys(a.key, b.key));
  const remaining = afterKey ? keyed.filter((k) => sign * compareKeys(k.key, afterKey) > 0) : keyed;
  const page = remaining.slice(0, limit);
  const last = page[page.length - 1];
  return { page: page.map((k) => k.item), next: remaining.length > limit && last !== undefined ? last.key : null };
}
