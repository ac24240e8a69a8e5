import { setTimeout as sleep } from 'node:timers/promises';
import { SingleBar } from 'cli-progress';
import { skippedWhileAway, untilRedisAnswers } from '../redis/while-away.js';
import { plural } from '../text/plural.js';
import { WAIT_POLL_MS } from './wait-poll.js';
import type { BatchRecord, CustomerState, OnboardingStore } from '../workers/onboarding-store.js';

/**
 * Follows a batch until it ends (`import --wait`): a redrawing bar when a person watches a
 * terminal, otherwise (CI logs, tests, a pipe) a plain line now and then, so a log stays
 * readable. Reads the batch counts the workers keep in Redis every `pollMs`; Redis may go away
 * at any moment of it, the first read included (docs/resilience.md).
 */
export interface FollowBatchOptions {
  store: Pick<OnboardingStore, 'getBatch' | 'getCustomer'>;
  batchId: string;
  /**
   * Customers this batch skipped because another batch was onboarding them already: their
   * own records are followed too, so "every customer onboarded" is known at the end.
   */
  alsoWaitFor?: readonly string[];
  out: NodeJS.WritableStream & { isTTY?: boolean };
  pollMs?: number;
  /** Without a terminal: at most one progress line this often (and one at the start and the end). */
  plainEveryMs?: number;
  /** Stops following (Ctrl-C): the batch goes on; the result says `interrupted`. */
  signal?: AbortSignal;
  /** True while Redis is away (the bar says so; the reads in between are skipped, not fatal). */
  redisAway?: () => boolean;
}

/** The batch once it ended; `interrupted` when following stopped first (the batch goes on). */
export type FollowResult = ({ interrupted: false } & FollowedBatch) | { interrupted: true };

export interface FollowedBatch {
  batch: BatchRecord;
  /** The final state of each `alsoWaitFor` customer (undefined: its record is gone). */
  others: { key: string; state: CustomerState | undefined }[];
}

export async function followBatch(opts: FollowBatchOptions): Promise<FollowResult> {
  const pollMs = opts.pollMs ?? WAIT_POLL_MS;
  const plainEveryMs = opts.plainEveryMs ?? 5000;
  const signal = opts.signal ?? new AbortController().signal;
  // Redis may have gone since the import wrote the batch: the first read waits for it too.
  const first = await untilRedisAnswers(() => mustGetBatch(opts), { signal, everyMs: pollMs });
  if (!first) return { interrupted: true };
  const started = Date.now();
  let batch = first;
  const workedAtStart = batch.done + batch.failed;
  const view = opts.out.isTTY ? barView(opts.out, batch) : plainView(opts.out, plainEveryMs);
  let others = (opts.alsoWaitFor ?? []).map((key) => ({ key, state: undefined as CustomerState | undefined }));

  for (;;) {
    const elapsedS = Math.max((Date.now() - started) / 1000, 0.001);
    const rate = (batch.done + batch.failed - workedAtStart) / elapsedS;
    const pendingOthers = others.filter((o) => o.state === 'queued' || o.state === 'running' || o.state === undefined);
    view.update(batch, rate, batch.ended ? pendingOthers.length : 0, opts.redisAway?.() ?? false);
    if (batch.ended && pendingOthers.length === 0) break;
    const slept = await sleep(pollMs, true, { signal }).catch(() => false);
    if (!slept) {
      view.stop(batch);
      return { interrupted: true };
    }
    // The workers go on while Redis restarts, and so does the following: a refused read is skipped.
    const next = await skippedWhileAway(() => poll(opts, others));
    if (next) ({ batch, others } = next);
  }
  view.stop(batch);
  return { interrupted: false, batch, others };
}

async function poll(opts: FollowBatchOptions, others: FollowedBatch['others']): Promise<FollowedBatch> {
  const batch = await mustGetBatch(opts);
  if (!batch.ended || others.length === 0) return { batch, others };
  const records = await Promise.all(others.map((o) => opts.store.getCustomer(o.key)));
  return { batch, others: others.map((o, i) => ({ key: o.key, state: records[i]?.state })) };
}

async function mustGetBatch(opts: FollowBatchOptions): Promise<BatchRecord> {
  const batch = await opts.store.getBatch(opts.batchId);
  if (!batch) throw new BatchGoneError(opts.batchId);
  return batch;
}

/** The batch's record vanished while it was followed: Redis came back without its data (no AOF), or it was deleted. */
export class BatchGoneError extends Error {
  constructor(readonly batchId: string) {
    super(
      `batch ${batchId} is gone from Redis while it was followed: Redis lost its data (run it with appendonly yes, docs/resilience.md) or the batch was removed`,
    );
    this.name = 'BatchGoneError';
  }
}

interface ProgressView {
  update(batch: BatchRecord, ratePerS: number, waitingForOthers: number, redisAway: boolean): void;
  stop(batch: BatchRecord): void;
}

/** Customers whose outcome in this batch is settled: onboarded, failed, skipped or taken over by a later batch. */
export function settledOf(b: BatchRecord): number {
  return b.done + b.failed + b.skipped + b.moved;
}

function etaText(b: BatchRecord, ratePerS: number): string {
  const remaining = b.total - settledOf(b);
  if (remaining <= 0) return '0s';
  if (ratePerS <= 0) return '?';
  const s = Math.round(remaining / ratePerS);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

function barView(out: FollowBatchOptions['out'], first: BatchRecord): ProgressView {
  const bar = new SingleBar({
    stream: out,
    format:
      '{bar} {percentage}% {value}/{total} | done {done}  failed {failed}  running {running}  queued {queued} | {rate}/s | ETA {etaText}{others}',
    hideCursor: true,
    barsize: 30,
    fps: 4,
  });
  bar.start(first.total, settledOf(first), payload(first, 0, 0, false));
  return {
    update(b, rate, waiting, away) {
      bar.setTotal(b.total);
      bar.update(settledOf(b), payload(b, rate, waiting, away));
    },
    stop() {
      bar.stop();
    },
  };

  function payload(b: BatchRecord, rate: number, waiting: number, away: boolean) {
    return {
      done: b.done,
      failed: b.failed,
      running: b.running,
      queued: b.queued,
      rate: rate.toFixed(1),
      etaText: etaText(b, rate),
      others:
        (waiting > 0 ? ` | waiting for ${plural(waiting, 'customer')} another batch is onboarding` : '') +
        (away ? ' | Redis unreachable, waiting for it' : ''),
    };
  }
}

export function plainView(out: FollowBatchOptions['out'], everyMs: number): ProgressView {
  let lastAt = 0;
  let lastLine = '';
  let lastWritten = '';
  const line = (b: BatchRecord, rate: number, waiting: number) => {
    const settled = settledOf(b);
    const percent = b.total > 0 ? Math.floor((settled / b.total) * 100) : 100;
    return (
      `progress ${settled}/${b.total} (${percent}%)  done ${b.done}  failed ${b.failed}  running ${b.running}  queued ${b.queued}` +
      `  ${rate.toFixed(1)}/s  ETA ${etaText(b, rate)}` +
      (waiting > 0 ? `  waiting for ${plural(waiting, 'customer')} another batch is onboarding` : '')
    );
  };
  return {
    update(b, rate, waiting) {
      const text = line(b, rate, waiting);
      // The counts without the rate and ETA, which change every poll.
      const counts = text.replace(/ {2}[\d.]+\/s {2}ETA \S+/, '');
      if (lastAt !== 0 && (Date.now() - lastAt < everyMs || counts === lastLine)) return;
      out.write(`${text}\n`);
      lastAt = Date.now();
      lastLine = counts;
      lastWritten = text;
    },
    stop(b) {
      // The last line is the counts alone, also when a poll before the batch's end already wrote
      // the same counts with a rate and an ETA (every customer settled, the end not yet stamped).
      const text = line(b, 0, 0).replace(/ {2}[\d.]+\/s {2}ETA \S+/, '');
      if (text !== lastWritten) out.write(`${text}\n`);
    },
  };
}
