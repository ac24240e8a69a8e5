import type { BatchRecord, CustomerRecord, EnqueueOutcome, OnboardingStore } from '../workers/onboarding-store.js';

/**
 * What the overview and the batch page show of a batch: its counts as a progress bar, and
 * while it runs the rate customers finish at and when the rest should be done. The rate is
 * taken over the last RATE_WINDOW_MS (or since the batch started, if later), so a batch
 * retried days after it ended shows its present pace, not its average over the days.
 */
export const RATE_WINDOW_MS = 2 * 60_000;

export interface ProgressSegment {
  state: 'done' | 'failed' | 'running' | 'queued' | 'other';
  count: number;
  /** Start and width in percent of the bar. */
  x: number;
  width: number;
}

export interface BatchView extends BatchRecord {
  sourceText: string;
  stateText: string;
  segments: ProgressSegment[];
  /** Customers finished per minute, while the batch runs and something finished lately. */
  ratePerMinute?: number;
  etaText?: string;
}

export function sourceText(batch: Pick<BatchRecord, 'source' | 'label'>): string {
  if (batch.source === 'csv') return `CSV ${batch.label}`;
  if (batch.source === 'webhook') return `webhook ${batch.label}`;
  return `${batch.source} ${batch.label}`;
}

export function batchView(
  batch: BatchRecord,
  records: readonly (CustomerRecord | undefined)[],
  now: number,
): BatchView {
  const stateText = batch.ended ? (batch.failed > 0 ? 'ended with failures' : 'ended') : 'running';
  const view: BatchView = { ...batch, sourceText: sourceText(batch), stateText, segments: segmentsOf(batch) };
  if (batch.ended) return view;
  const since = Math.max(Date.parse(batch.createdAt), now - RATE_WINDOW_MS);
  const finishedLately = records.filter(
    (r) => r?.batchId === batch.id && r.finishedAt && Date.parse(r.finishedAt) >= since,
  ).length;
  const minutes = Math.max(now - since, 1000) / 60_000;
  if (finishedLately === 0) return view;
  const ratePerMinute = finishedLately / minutes;
  return { ...view, ratePerMinute, etaText: durationText(((batch.queued + batch.running) / ratePerMinute) * 60_000) };
}

function segmentsOf(batch: BatchRecord): ProgressSegment[] {
  const counts: [ProgressSegment['state'], number][] = [
    ['done', batch.done],
    ['failed', batch.failed],
    ['running', batch.running],
    ['queued', batch.queued],
    ['other', batch.skipped + batch.moved],
  ];
  const total = Math.max(
    1,
    counts.reduce((sum, [, n]) => sum + n, 0),
  );
  let x = 0;
  return counts.map(([state, count]) => {
    const width = (count / total) * 100;
    const segment = { state, count, x, width };
    x += width;
    return segment;
  });
}

export function durationText(ms: number): string {
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Newest first, each with its progress; the running ones with rate and ETA. */
export async function recentBatches(store: OnboardingStore, limit = 30): Promise<BatchView[]> {
  const now = Date.now();
  const batches = await store.listBatches(limit);
  return Promise.all(
    batches.map(async (batch) => {
      const records = batch.ended ? [] : (await store.batchCustomers(batch.id)).map((c) => c.record);
      return batchView(batch, records, now);
    }),
  );
}

export interface CustomerRow {
  key: string;
  name: string;
  state: string;
  /** The step it is at, or failed at. */
  step: string;
  /** The same text `status` prints for a failure. */
  reason: string;
  tenantId: string;
  userId: string;
  /** Set when the customer's record belongs to another batch (resubmitted, or already queued there). */
  otherBatchId?: string;
  outcome: EnqueueOutcome;
  canRetry: boolean;
}

export function customerRow(
  batchId: string,
  entry: { key: string; outcome: EnqueueOutcome; record: CustomerRecord | undefined },
): CustomerRow {
  const { key, outcome, record } = entry;
  const here = record?.batchId === batchId;
  const failed = record?.state === 'failed';
  return {
    key,
    name: record?.name ?? '',
    state: record?.state ?? 'unknown',
    step: (failed ? record?.failedStep : record?.step) ?? '',
    reason: failed ? (record?.error ?? '') : '',
    tenantId: record?.facts.tenantId ?? '',
    userId: record?.facts.userId ?? '',
    ...(record && !here ? { otherBatchId: record.batchId } : {}),
    outcome,
    canRetry: failed && here,
  };
}
