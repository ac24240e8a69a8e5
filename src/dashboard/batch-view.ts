import { plural } from '../text/plural.js';
import type { BatchIndex } from '../workers/batch-index.js';
import type { BatchRecord, CustomerRecord, EnqueueOutcome, OnboardingStore } from '../workers/onboarding-store.js';
import { resubmitStep } from '../workers/retry-verdict.js';
import { maskText } from './mask.js';
import { shortTime } from './time-text.js';
import { EMAIL_UNCONFIRMED, isEmailUnconfirmed } from '../workers/unconfirmed-emails.js';

/**
 * What the overview and the batch page show of a batch: its counts as a progress bar, and
 * while it runs the pace and when it should be done. The pace is measured in steps, because
 * the queue runs every customer's first step before anyone's second (FIFO), so customers
 * finish in a burst at the end; the server samples each running batch's completed steps as
 * its pages poll, and the pace is taken over the last RATE_WINDOW_MS of samples, so a batch
 * retried days after it ended shows its present pace.
 */
export const RATE_WINDOW_MS = 2 * 60_000;
/** Samples closer together than this are not kept (pages poll every 2 s, several may be open). */
const MIN_SAMPLE_GAP_MS = 1000;

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
  /** What was submitted: "346 of 350 rows (4 bad)" for a CSV file, "2 customers submitted" otherwise. */
  submittedText: string;
  segments: ProgressSegment[];
  /** Of the steps its customers have to run, how many are done (while it runs). */
  stepsPercent?: number;
  /** Customers' worth of steps done per minute, once two samples apart show progress. */
  ratePerMinute?: number;
  etaText?: string;
  /** An ended batch: from its creation to its last customer's end, and customers ended per minute over it. */
  tookText?: string;
  paceText?: string;
}

/** A webhook delivery without an id is labelled `signed <ISO time>` by the receiver. */
const SIGNED_LABEL = /^signed (\d{4}-\d\d-\d\dT[\d:.]+Z)$/;

export function sourceText(batch: Pick<BatchRecord, 'source' | 'label'>): string {
  if (batch.source === 'csv') return `CSV ${batch.label}`;
  if (batch.source === 'webhook') {
    const signed = SIGNED_LABEL.exec(batch.label);
    return signed ? `webhook, no delivery id, signed ${shortTime(signed[1])}` : `webhook ${batch.label}`;
  }
  return `${batch.source} ${batch.label}`;
}

export function submittedText(batch: BatchRecord): string {
  if (batch.csvRows === undefined) return `${plural(batch.total, 'customer')} submitted`;
  const bad = batch.csvBadRows ?? 0;
  return `${(batch.csvRows - bad).toLocaleString('en-US')} of ${plural(batch.csvRows, 'row')}${bad > 0 ? ` (${bad.toLocaleString('en-US')} bad)` : ''}`;
}

/** Steps done and planned over the customers whose record belongs to the batch, as its scripts sum them. */
export function stepProgress(batch: BatchRecord) {
  const customers = batch.queued + batch.running + batch.done + batch.failed;
  return { done: batch.stepsDone, planned: batch.stepsPlanned, customers };
}

/** Each running batch's completed steps over time, in this process. */
export class ProgressSampler {
  private readonly samples = new Map<string, { at: number; steps: number }[]>();

  /** Steps per minute over the window, or undefined until two samples apart show any. */
  observe(batchId: string, steps: number, now: number): number | undefined {
    const kept = (this.samples.get(batchId) ?? []).filter((s) => s.at >= now - RATE_WINDOW_MS);
    const last = kept[kept.length - 1];
    if (!last || now - last.at >= MIN_SAMPLE_GAP_MS) kept.push({ at: now, steps });
    this.samples.set(batchId, kept);
    const first = kept[0]!;
    const newest = kept[kept.length - 1]!;
    if (newest.at === first.at || newest.steps <= first.steps) return undefined;
    return ((newest.steps - first.steps) / (newest.at - first.at)) * 60_000;
  }

  forget(batchId: string): void {
    this.samples.delete(batchId);
  }
}

export function batchView(batch: BatchRecord, now: number, sampler: ProgressSampler): BatchView {
  const stateText = batch.ended ? (batch.failed > 0 ? 'ended with failures' : 'ended') : 'running';
  const view: BatchView = {
    ...batch,
    sourceText: sourceText(batch),
    stateText,
    submittedText: submittedText(batch),
    segments: segmentsOf(batch),
  };
  if (batch.ended) {
    sampler.forget(batch.id);
    return { ...view, ...endedPace(batch) };
  }
  const progress = stepProgress(batch);
  if (progress.planned === 0) return view;
  const stepsPercent = Math.floor((progress.done / progress.planned) * 100);
  const stepsPerMinute = sampler.observe(batch.id, progress.done, now);
  if (stepsPerMinute === undefined) return { ...view, stepsPercent };
  const ratePerMinute = stepsPerMinute / (progress.planned / progress.customers);
  const etaText = durationText(((progress.planned - progress.done) / stepsPerMinute) * 60_000);
  return { ...view, stepsPercent, ratePerMinute, etaText };
}

/** How long an ended batch took and its pace over that time; nothing when its end was not recorded. */
function endedPace(batch: BatchRecord): Pick<BatchView, 'tookText' | 'paceText'> {
  const took = batch.endedAt ? Date.parse(batch.endedAt) - Date.parse(batch.createdAt) : NaN;
  if (!(took >= 0)) return {};
  const ended = batch.done + batch.failed;
  const perMinute = took > 0 ? (ended / took) * 60_000 : undefined;
  return {
    tookText: `took ${durationText(took)}`,
    ...(perMinute !== undefined && ended > 0 ? { paceText: `${paceNumber(perMinute)} customers / min` } : {}),
  };
}

/** One decimal while it says something (12.5), whole numbers with separators above 100 (50,125). */
function paceNumber(perMinute: number): string {
  return perMinute < 100 ? perMinute.toFixed(1) : Math.round(perMinute).toLocaleString('en-US');
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

/**
 * Newest first, each with its progress; the running ones with rate and ETA, the ended ones with
 * what they took. A batch made before the index existed is indexed first (its step sums).
 */
export async function recentBatches(
  store: Pick<OnboardingStore, 'listBatches' | 'getBatch'>,
  index: Pick<BatchIndex, 'ensure'>,
  sampler: ProgressSampler,
  limit = 30,
): Promise<BatchView[]> {
  const now = Date.now();
  const batches = await Promise.all(
    (await store.listBatches(limit)).map(async (batch) =>
      (await index.ensure(batch)) ? ((await store.getBatch(batch.id)) ?? batch) : batch,
    ),
  );
  return batches.map((batch) => batchView(batch, now, sampler));
}

export interface CustomerRow {
  key: string;
  name: string;
  state: string;
  /** The step it is at, or failed at. */
  step: string;
  /** The same text `status` prints for a failure. */
  reason: string;
  /** A done customer's open point, in `status`'s words (an unconfirmed activation e-mail). */
  note: string;
  tenantId: string;
  userId: string;
  /** Its partner, shown when the install has several (else absent). */
  partner?: string;
  /** Set when the customer's record belongs to another batch (resubmitted, or already queued there). */
  otherBatchId?: string;
  outcome: EnqueueOutcome;
  canRetry: boolean;
  /** A failure only a change resolves: what to change and resubmit, instead of Retry. */
  changeText?: string;
}

/** `defaultPartner`: given when the install has several partners, the one a record without any has. */
export function customerRow(
  batch: Pick<BatchRecord, 'id' | 'source' | 'label'>,
  entry: { key: string; outcome: EnqueueOutcome; record: CustomerRecord | undefined },
  defaultPartner?: string,
): CustomerRow {
  const { key, outcome, record } = entry;
  const batchId = batch.id;
  const here = record?.batchId === batchId;
  const failed = record?.state === 'failed';
  const change = failed && here ? record?.needsChange : undefined;
  return {
    key,
    name: record?.name ?? '',
    state: record?.state ?? 'unknown',
    step: (failed ? record?.failedStep : record?.step) ?? '',
    reason: failed ? maskText(record?.error ?? '') : '',
    note: isEmailUnconfirmed(record, batchId) ? EMAIL_UNCONFIRMED : '',
    tenantId: record?.facts.tenantId ?? '',
    userId: record?.facts.userId ?? '',
    ...(defaultPartner !== undefined ? { partner: record?.partner ?? defaultPartner } : {}),
    ...(record && !here ? { otherBatchId: record.batchId } : {}),
    outcome,
    canRetry: failed && here && !change,
    ...(change ? { changeText: resubmitStep(change, batch) } : {}),
  };
}
