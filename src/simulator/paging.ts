import type { z } from 'zod';
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

/**
 * One page of `items` sorted by `key` (numbers compared in order), starting after `afterKey`.
 * `next` is the key to put in the next cursor, or null on the last page.
 */
export function paginate<T>(
  items: T[],
  key: (item: T) => number[],
  limit: number,
  afterKey: number[] | null,
): { page: T[]; next: number[] | null } {
  const compare = (a: number[], b: number[]): number => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
      const diff = (a[i] ?? 0) - (b[i] ?? 0);
      if (diff !== 0) return diff;
    }
    return 0;
  };
  const sorted = [...items].sort((a, b) => compare(key(a), key(b)));
  const remaining = afterKey ? sorted.filter((item) => compare(key(item), afterKey) > 0) : sorted;
  const page = remaining.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next: remaining.length > limit && last !== undefined ? key(last) : null };
}
