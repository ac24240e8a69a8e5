import type { BatchFunnel } from '../reconcile/drift-store.js';
import { FUNNEL_NOT_CHECKED, funnelStages, type FunnelStage } from '../text/funnel-words.js';
import { plural } from '../text/plural.js';
import type { BatchCounts, BatchFilter, BatchIndex } from '../workers/batch-index.js';
import type { OnboardingStore, StoredBadRow } from '../workers/onboarding-store.js';
import { batchPageHref, PAGE_SIZE, type BatchQuery } from './batch-query.js';
import { batchView, customerRow, type BatchView, type CustomerRow, type ProgressSampler } from './batch-view.js';

/**
 * What the batch page shows: the batch's summary, the filters with their counts, one page of
 * customers (failed first once the batch ended with failures), and the CSV's bad rows.
 */
export interface BatchPageModel {
  batch: BatchView;
  query: BatchQuery;
  filter: BatchFilter | 'all';
  filters: FilterLink[];
  /** With several partners: All partners and each partner with customers in the batch (else absent). */
  partnerFilters?: PartnerLink[];
  rows: CustomerRow[];
  pager: Pager;
  /** Failed customers Retry all would queue (those needing a change are left out). */
  failedHere: number;
  /** "1 failed customer needs a change …", when some do. */
  needsChangeText?: string;
  unconfirmedHere: number;
  failedFirst: boolean;
  /** The URL the live part polls, with the same filter, search and page. */
  fragmentHref: string;
}

export interface FilterLink {
  filter: BatchFilter | 'all';
  label: string;
  count: number;
  href: string;
  active: boolean;
}

export interface PartnerLink {
  /** Absent: all partners. */
  partner?: string;
  label: string;
  /** Absent for All partners (the State filters count them). */
  count?: number;
  href: string;
  active: boolean;
}

export interface Pager {
  /** "51–100 of 9,000 customers", or what matched nothing. */
  text: string;
  page: number;
  pages: number;
  previousHref?: string;
  nextHref?: string;
}

const FILTER_LABELS: Record<BatchFilter | 'all', string> = {
  all: 'All',
  failed: 'Failed',
  unconfirmed: 'Unconfirmed e-mail',
  running: 'Running',
  queued: 'Queued',
  done: 'Done',
  elsewhere: 'In another batch',
};

export interface BatchPageDeps {
  store: Pick<OnboardingStore, 'getBatch'>;
  index: Pick<BatchIndex, 'ensure' | 'page' | 'partnerCounts'>;
  sampler: ProgressSampler;
  /** An install with several partners (docs/partners.md): their names, and the one a record without any has. */
  partners?: { names: readonly string[]; default: string };
}

export async function batchPageModel(
  deps: BatchPageDeps,
  batchId: string,
  query: BatchQuery,
): Promise<BatchPageModel | undefined> {
  let batch = await deps.store.getBatch(batchId);
  if (!batch) return undefined;
  if (await deps.index.ensure(batch)) batch = (await deps.store.getBatch(batchId)) ?? batch;
  const filter = query.state ?? 'all';
  const failedFirst = filter === 'all' && !query.q && batch.ended && batch.failed > 0;
  const listing = await deps.index.page(batchId, {
    filter,
    ...(query.q ? { search: query.q } : {}),
    page: query.page,
    pageSize: PAGE_SIZE,
    failedFirst,
    ...(query.partner ? { partner: query.partner } : {}),
  });
  const shown = { ...query, page: listing.page };
  const { counts } = listing;
  const partners = deps.partners;
  return {
    batch: batchView(batch, Date.now(), deps.sampler),
    query: shown,
    filter,
    filters: filterLinks(batchId, shown, filter, counts),
    ...(partners ? { partnerFilters: await partnerLinks(deps.index, batchId, shown, partners.names) } : {}),
    rows: listing.entries.map((entry) => customerRow(batch, entry, partners?.default)),
    pager: pager(batchId, shown, listing),
    failedHere: counts.failed - counts['needs-change'],
    ...(counts['needs-change'] > 0 ? { needsChangeText: needsChangeText(counts['needs-change']) } : {}),
    unconfirmedHere: counts.unconfirmed,
    failedFirst,
    fragmentHref: batchPageHref(batchId, shown, {}, '/fragment'),
  };
}

function needsChangeText(count: number): string {
  const one = count === 1;
  return `${plural(count, 'failed customer')} ${one ? 'needs' : 'need'} a change before a retry can help: see the reason in ${one ? 'its row' : 'their rows'}`;
}

/** Every filter that has customers, and the one chosen; each keeps the search and starts at page 1. */
function filterLinks(batchId: string, query: BatchQuery, filter: BatchFilter | 'all', counts: BatchCounts) {
  return (Object.keys(FILTER_LABELS) as (BatchFilter | 'all')[])
    .map((f) => ({
      filter: f,
      label: FILTER_LABELS[f],
      count: counts[f],
      href: batchPageHref(batchId, query, { state: f === 'all' ? undefined : f, page: undefined }),
      active: f === filter,
    }))
    .filter((link) => link.filter === 'all' || link.active || link.count > 0);
}

/** All partners, then each partner with customers in the batch (or chosen); each keeps the state and search. */
async function partnerLinks(
  index: Pick<BatchIndex, 'partnerCounts'>,
  batchId: string,
  query: BatchQuery,
  names: readonly string[],
): Promise<PartnerLink[]> {
  const counts = await index.partnerCounts(batchId, names);
  const all: PartnerLink = {
    label: 'All partners',
    href: batchPageHref(batchId, query, { partner: undefined, page: undefined }),
    active: query.partner === undefined,
  };
  const each = names
    .map((partner) => ({
      partner,
      label: partner,
      count: counts[partner] ?? 0,
      href: batchPageHref(batchId, query, { partner, page: undefined }),
      active: partner === query.partner,
    }))
    .filter((link) => link.active || link.count > 0);
  return [all, ...each];
}

function pager(
  batchId: string,
  query: BatchQuery,
  listing: { matched: number; page: number; pages: number; offset: number; entries: unknown[] },
): Pager {
  const { matched, page, pages, offset } = listing;
  const text =
    matched === 0
      ? 'no customer matches'
      : `${(offset + 1).toLocaleString('en-US')}–${(offset + listing.entries.length).toLocaleString('en-US')} of ${plural(matched, 'customer')}`;
  return {
    text,
    page,
    pages,
    ...(page > 1 ? { previousHref: batchPageHref(batchId, query, { page: page - 1 }) } : {}),
    ...(page < pages ? { nextHref: batchPageHref(batchId, query, { page: page + 1 }) } : {}),
  };
}

/** The CSV's bad rows the batch keeps, one line per field problem. */
export async function badRowLines(
  store: Pick<OnboardingStore, 'csvBadRows'>,
  batchId: string,
): Promise<{ line: number; field: string; reason: string }[]> {
  const rows: StoredBadRow[] = await store.csvBadRows(batchId);
  return rows.flatMap((row) => row.problems.map((p) => ({ line: row.line, ...p })));
}

/** The batch's onboarding funnel as the sweeps found it (docs/reconcile.md "Funnel"). */
export interface FunnelView {
  customers: number;
  /** Empty before any sweep checked the batch: `notChecked` says so instead of zeros. */
  stages: FunnelStage[];
  checkedAt?: string;
  notChecked?: string;
}

export function funnelView(funnel: BatchFunnel): FunnelView {
  if (funnel.checkedAt === null) return { customers: funnel.customers, stages: [], notChecked: FUNNEL_NOT_CHECKED };
  return {
    customers: funnel.customers,
    stages: funnelStages(funnel),
    checkedAt: new Date(funnel.checkedAt).toISOString(),
  };
}
