import { z } from 'zod';
import { acronisTimestamp } from './timestamps.js';

/**
 * Cursor paging of list endpoints (docs/acronis-api.md §9.4): the cursor encodes every filter,
 * so later pages send only `after` and `limit`; the last page has no `after`.
 */
export const pagingSchema = z
  .object({ cursors: z.object({ after: z.string().nullish(), before: z.string().nullish() }).partial().optional() })
  .partial();

export function listSchema<T extends z.ZodType>(item: T) {
  return z.object({
    timestamp: acronisTimestamp.optional(),
    items: z.array(item),
    paging: pagingSchema.optional(),
  });
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page; undefined on the last one. */
  after: string | undefined;
}

export function toPage<T>(list: { items: T[]; paging?: z.infer<typeof pagingSchema> | undefined }): Page<T> {
  const after = list.paging?.cursors?.after ?? undefined;
  return { items: list.items, after: after && after.length > 0 ? after : undefined };
}

/** Walks every page: `fetchPage(undefined)` first, then each `after` cursor until none is left. */
export async function* allPages<T>(fetchPage: (after: string | undefined) => Promise<Page<T>>): AsyncGenerator<T> {
  let after: string | undefined;
  const seen = new Set<string>();
  do {
    const page = await fetchPage(after);
    yield* page.items;
    after = page.after;
    // A server that hands back a cursor it already gave would loop us forever.
    if (after !== undefined) {
      if (seen.has(after)) throw new Error(`paging cursor repeated: ${after}`);
      seen.add(after);
    }
  } while (after !== undefined);
}
