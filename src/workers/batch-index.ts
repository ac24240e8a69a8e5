import type { RedisConnection } from '../redis/connection.js';
import type { RedisKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import {
  BATCH_INDEX_VERSION,
  type BatchRecord,
  type CustomerRecord,
  type EnqueueOutcome,
  type OnboardingStore,
} from './onboarding-store.js';

/**
 * A page of a batch's customers, by view and search, read through the index the onboarding
 * scripts keep (src/redis/lua/onboarding-index.lua): a page costs its own records, whatever the
 * batch's size; a search runs on the server over the batch's search texts and sends back one page.
 */

/** The views the batch page filters on, in the order it lists them, with what the index calls them. */
export const BATCH_FILTERS = ['failed', 'unconfirmed', 'running', 'queued', 'done', 'elsewhere'] as const;
export type BatchFilter = (typeof BATCH_FILTERS)[number];
/** Every index of a batch: the filters, and the failures that need a change (Retry leaves them). */
const INDEX_VIEWS = [...BATCH_FILTERS, 'needs-change'] as const;
type IndexView = (typeof INDEX_VIEWS)[number];

export type BatchCounts = Record<IndexView | 'all', number>;

export interface BatchPageQuery {
  filter: BatchFilter | 'all';
  /** Matched, case-insensitively, anywhere in the customer's key (its external id) or name. */
  search?: string;
  /** 1-based; past the last page, the last page. */
  page: number;
  pageSize: number;
  /** The failed customers before the others (in `all`, without a search). */
  failedFirst: boolean;
  /** Only this partner's customers (an install with several, docs/partners.md); counts too. */
  partner?: string;
}

export interface BatchPageEntry {
  key: string;
  outcome: EnqueueOutcome;
  record: CustomerRecord | undefined;
}

export interface BatchPage {
  entries: BatchPageEntry[];
  counts: BatchCounts;
  /** Customers the filter and search match, over all pages. */
  matched: number;
  page: number;
  pages: number;
  /** The position (0-based) of the first entry among those matched. */
  offset: number;
}

export class BatchIndex {
  private readonly redis: RedisConnection & ScriptCommands;

  constructor(
    redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly store: Pick<OnboardingStore, 'getCustomers'>,
  ) {
    this.redis = withScripts(redis);
  }

  /** Builds the index of a batch made before it existed (one script over its records, once). */
  async ensure(batch: BatchRecord): Promise<boolean> {
    if (batch.indexVersion === BATCH_INDEX_VERSION) return false;
    const { keys } = this;
    await this.redis.onboardingIndexBatch(
      ...[keys.batch(batch.id), keys.batchCustomers(batch.id), keys.batchSearchText(batch.id)],
      ...[keys.batchPrefix, keys.batchCustomersSuffix, keys.batchIndexSuffix],
      ...[batch.id, keys.customerPrefix, BATCH_INDEX_VERSION, ...INDEX_VIEWS],
    );
    return true;
  }

  /** Each view's count, of the whole batch or of one partner's customers in it. */
  async counts(batchId: string, partner?: string): Promise<BatchCounts> {
    const pipeline = this.redis.pipeline();
    pipeline.zcard(this.listKey(batchId, 'all', partner));
    for (const view of INDEX_VIEWS) pipeline.zcard(this.listKey(batchId, view, partner));
    const [all = 0, ...views] = await cardinalities(pipeline);
    return { all, ...Object.fromEntries(INDEX_VIEWS.map((view, i) => [view, views[i] ?? 0])) } as BatchCounts;
  }

  /** How many of the batch's customers each partner has (the batch page's partner filter). */
  async partnerCounts(batchId: string, partners: readonly string[]): Promise<Record<string, number>> {
    const pipeline = this.redis.pipeline();
    for (const partner of partners) pipeline.zcard(this.listKey(batchId, 'all', partner));
    const counts = await cardinalities(pipeline);
    return Object.fromEntries(partners.map((partner, i) => [partner, counts[i] ?? 0]));
  }

  async page(batchId: string, query: BatchPageQuery): Promise<BatchPage> {
    const { partner } = query;
    const counts = await this.counts(batchId, partner);
    const listed = this.listKey(batchId, query.filter, partner);
    const { pageSize } = query;
    const at = (matched: number) => {
      const pages = Math.max(1, Math.ceil(matched / pageSize));
      const page = Math.min(Math.max(1, query.page), pages);
      return { matched, pages, page, offset: (page - 1) * pageSize };
    };
    let keys: string[];
    let place: ReturnType<typeof at>;
    if (query.search) {
      const wanted = (Math.max(1, query.page) - 1) * pageSize;
      let found = await this.search(batchId, listed, query.search, wanted, pageSize);
      place = at(found.matched);
      // Past the last page: the last page, as for a list.
      if (place.offset !== wanted) found = await this.search(batchId, listed, query.search, place.offset, pageSize);
      keys = found.keys;
    } else if (query.filter === 'all' && query.failedFirst && counts.failed > 0) {
      place = at(counts.all);
      keys = await this.failedFirst(batchId, place.offset, pageSize, partner);
    } else {
      place = at(query.filter === 'all' ? counts.all : counts[query.filter]);
      keys = await this.redis.zrange(listed, place.offset, place.offset + pageSize - 1);
    }
    return { entries: await this.entries(batchId, keys), counts, ...place };
  }

  private listKey(batchId: string, view: IndexView | 'all', partner?: string): string {
    if (partner !== undefined) return this.keys.batchPartnerIndex(batchId, view, partner);
    return view === 'all' ? this.keys.batchCustomers(batchId) : this.keys.batchIndex(batchId, view);
  }

  /** How many listed customers have the text in their key or name, and a page of them, in position order. */
  private async search(
    batchId: string,
    listed: string,
    text: string,
    offset: number,
    count: number,
  ): Promise<{ matched: number; keys: string[] }> {
    const reply = (await this.redis.onboardingSearch(
      listed,
      this.keys.batchSearchText(batchId),
      text.toLowerCase(),
      offset,
      count,
    )) as [number, ...string[]];
    const [matched, ...keys] = reply;
    return { matched, keys };
  }

  /** The failed customers, then the others, each in position order. */
  private async failedFirst(batchId: string, offset: number, size: number, partner?: string): Promise<string[]> {
    const failed = await this.redis.zrange(this.listKey(batchId, 'failed', partner), 0, -1);
    if (offset + size <= failed.length) return failed.slice(offset, offset + size);
    const isFailed = new Set(failed);
    const all = await this.redis.zrange(this.listKey(batchId, 'all', partner), 0, -1);
    return [...failed, ...all.filter((key) => !isFailed.has(key))].slice(offset, offset + size);
  }

  private async entries(batchId: string, keys: string[]): Promise<BatchPageEntry[]> {
    if (keys.length === 0) return [];
    const [outcomes, records] = await Promise.all([
      this.redis.hmget(this.keys.batchOutcomes(batchId), ...keys),
      this.store.getCustomers(keys),
    ]);
    return keys.map((key, i) => ({
      key,
      outcome: (outcomes[i] ?? 'queued') as EnqueueOutcome,
      record: records[i],
    }));
  }
}

async function cardinalities(pipeline: ReturnType<RedisConnection['pipeline']>): Promise<number[]> {
  return ((await pipeline.exec()) ?? []).map(([err, n]) => {
    if (err) throw err;
    return Number(n);
  });
}
