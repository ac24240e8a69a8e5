import { z } from 'zod';
import { BATCH_FILTERS, type BatchFilter } from '../workers/batch-index.js';

/**
 * The batch page's query string: which customers (`state`), a search (`q`, in the external id
 * or name), with several partners which partner's (`partner`), and the page. Bounded here, so a request cannot ask for more than one page's worth of
 * records, and refused with the parameter's name when it is not one of these.
 */
export const PAGE_SIZE = 50;
export const MAX_SEARCH_LENGTH = 100;
const MAX_PAGE = 100_000;

export const batchQuerySchema = z.object({
  state: z.enum(['all', ...BATCH_FILTERS], { error: `must be one of all, ${BATCH_FILTERS.join(', ')}` }).optional(),
  q: z
    .string({ error: 'must be given once' })
    .trim()
    .max(MAX_SEARCH_LENGTH, `must be at most ${MAX_SEARCH_LENGTH} characters`)
    .refine((q) => !/\p{Cc}/u.test(q), 'must be one line of text')
    .optional(),
  partner: z.string({ error: 'must be given once' }).trim().toLowerCase().max(64).optional(),
  page: z.coerce
    .number({ error: 'must be a page number' })
    .int('must be a page number')
    .min(1, 'must be a page number from 1')
    .max(MAX_PAGE, `must be at most ${MAX_PAGE}`)
    .default(1),
});

export interface BatchQuery {
  /** Absent: the default view (all; failed first when the batch ended with failures). */
  state?: BatchFilter | 'all';
  q?: string;
  /** Only this partner's customers (an install with several partners). */
  partner?: string;
  page: number;
}

export type ParsedBatchQuery = { ok: true; query: BatchQuery } | { ok: false; problem: string };

/** `partners`: the partner names a filter may name (none: the install serves one, and has no partner filter). */
export function parseBatchQuery(raw: unknown, partners: readonly string[] = []): ParsedBatchQuery {
  const parsed = batchQuerySchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, problem: `${String(issue?.path[0] ?? 'query')}: ${issue?.message ?? 'is not valid'}` };
  }
  const { state, q, partner, page } = parsed.data;
  if (partner && !partners.includes(partner)) return { ok: false, problem: `partner: ${unknownPartner(partners)}` };
  return {
    ok: true,
    query: { ...(state ? { state } : {}), ...(q ? { q } : {}), ...(partner ? { partner } : {}), page },
  };
}

function unknownPartner(partners: readonly string[]): string {
  if (partners.length === 0) return 'this install serves one partner: there is no partner filter';
  return `must be one of ${partners.join(', ')}`;
}

/** The page's address (or its fragment's, `path` `/fragment`) with some of its query changed (`undefined` drops one). */
export function batchPageHref(batchId: string, query: BatchQuery, change: Partial<BatchQuery> = {}, path = ''): string {
  const next: Partial<BatchQuery> = { ...query, ...change };
  const params = new URLSearchParams();
  if (next.state) params.set('state', next.state);
  if (next.q) params.set('q', next.q);
  if (next.partner) params.set('partner', next.partner);
  if (next.page && next.page > 1) params.set('page', String(next.page));
  const search = params.toString();
  return `/batches/${encodeURIComponent(batchId)}${path}${search ? `?${search}` : ''}`;
}
