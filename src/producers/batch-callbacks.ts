import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import got from 'got';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { VERSION } from '../version.js';
import {
  CALLBACK_BACKOFF,
  CALLBACK_QUEUE,
  callbackJobId,
  callbackRetryDelay,
  type CallbackJob,
} from '../workers/callback-queue.js';
import type { BatchRecord, EnqueueOutcome, OnboardingStore } from '../workers/onboarding-store.js';
import { signPayload } from './webhook-signature.js';

/**
 * Delivers the webhook's batch callbacks (jobs of the callback queue): once a batch has ended,
 * its summary is POSTed to `callback_url`, signed like the webhook itself, with
 * `X-Delivery-Id: callback-<batch id>` on every attempt. At least once: a receiver whose 2xx
 * was lost gets it again.
 */
export interface BatchSummary {
  event: 'batch.ended';
  batch_id: string;
  source: string;
  label: string;
  created_at: string;
  counts: { total: number; done: number; failed: number; skipped: number; moved: number };
  customers: CustomerSummary[];
}

/** What a sales system may see of a customer: ids and outcome. Never the password or the agent token. */
export interface CustomerSummary {
  customer: string;
  name: string;
  /** What submitting it did: queued, replaced, already-onboarded, already-queued. */
  submitted: EnqueueOutcome;
  state: string;
  failed_step: string | null;
  error: string | null;
  tenant_id: string | null;
  user_id: string | null;
  login: string | null;
  activation: string | null;
}

export interface CallbackWorkerOptions {
  /** A connection for the worker's blocking commands (maxRetriesPerRequest: null). */
  connection: Redis;
  prefix: string;
  store: OnboardingStore;
  /** Signing secrets, the current one first. */
  secrets: readonly string[];
  logger: Logger;
  /** How long a batch that has not ended waits for its next look, unless its last customer promotes it first. */
  recheckMs?: number;
  /** First retry delay after a failed delivery; it doubles up to an hour. */
  firstRetryMs?: number;
  /** Per HTTP attempt. */
  requestTimeoutMs?: number;
}

/** A batch that has not ended after this long is given up (its callback would describe a batch nobody finishes). */
const MAX_WAIT_MS = 7 * 24 * 3600 * 1000;

export function createCallbackWorker(opts: CallbackWorkerOptions): Worker<CallbackJob> {
  const logger = opts.logger.child({ component: 'callbacks' });
  const worker = new Worker<CallbackJob>(CALLBACK_QUEUE, (job, token) => deliverWhenSettled(opts, job, token), {
    connection: opts.connection,
    prefix: opts.prefix,
    concurrency: 10,
    settings: {
      backoffStrategy: (attemptsMade, type) =>
        type === CALLBACK_BACKOFF ? callbackRetryDelay(attemptsMade, opts.firstRetryMs) : 0,
    },
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    const final = job.attemptsMade >= (job.opts.attempts ?? 1) || err instanceof UnrecoverableError;
    const fields = { batchId: job.data.batchId, target: safeOrigin(job.data.url), attempts: job.attemptsMade };
    if (final) logger.error({ ...fields, reason: err.message }, 'batch callback given up');
    else logger.warn({ ...fields, reason: err.message }, 'batch callback failed; will try again');
  });
  worker.on('error', (err) => logger.warn({ reason: err.message }, 'callback worker: Redis error'));
  return worker;
}

async function deliverWhenSettled(opts: CallbackWorkerOptions, job: Job<CallbackJob>, token?: string): Promise<string> {
  const { batchId, url, registeredAt } = job.data;
  const summary = await settledSummary(opts.store, batchId);
  if (summary === 'gone') {
    opts.logger.warn({ batchId }, 'callback dropped: its batch no longer exists');
    return 'batch gone';
  }
  if (summary === 'waiting') {
    if (Date.now() - Date.parse(registeredAt) > MAX_WAIT_MS)
      throw new UnrecoverableError('the batch has not ended in 7 days');
    await job.moveToDelayed(Date.now() + (opts.recheckMs ?? 10_000), token);
    throw new DelayedError();
  }
  const status = await post(url, summary, opts);
  opts.logger.info({ batchId, target: safeOrigin(url), status }, 'batch callback delivered');
  return `delivered (${status})`;
}

/**
 * The summary once the batch has ended and every customer it names has finished, including
 * those it found already queued in another batch's chain (the sender wants their outcome too).
 */
async function settledSummary(store: OnboardingStore, batchId: string): Promise<BatchSummary | 'gone' | 'waiting'> {
  const batch = await store.getBatch(batchId);
  if (!batch) return 'gone';
  if (!batch.ended) return 'waiting';
  const customers = await store.batchCustomers(batchId);
  const unsettled = customers.some(
    (c) => c.record !== undefined && c.record.state !== 'done' && c.record.state !== 'failed',
  );
  return unsettled ? 'waiting' : summarise(batch, customers);
}

/** One POST; anything but a 2xx throws, and BullMQ tries again later. */
async function post(url: string, summary: BatchSummary, opts: CallbackWorkerOptions): Promise<number> {
  const body = JSON.stringify(summary);
  const response = await got.post(url, {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': `acronis-onboard/${VERSION} (batch callback)`,
      'x-delivery-id': callbackJobId(summary.batch_id),
      'x-signature': signPayload(opts.secrets, body),
    },
    timeout: { request: opts.requestTimeoutMs ?? 10_000 },
    retry: { limit: 0 },
    followRedirect: false,
    throwHttpErrors: false,
  });
  // A redirect is not followed and counts as a failure: a callback wants a 2xx.
  if (response.statusCode < 200 || response.statusCode > 299)
    throw new Error(`the receiver answered ${response.statusCode}`);
  return response.statusCode;
}

export function summarise(
  batch: BatchRecord,
  customers: Awaited<ReturnType<OnboardingStore['batchCustomers']>>,
): BatchSummary {
  return {
    event: 'batch.ended',
    batch_id: batch.id,
    source: batch.source,
    label: batch.label,
    created_at: batch.createdAt,
    counts: { total: batch.total, done: batch.done, failed: batch.failed, skipped: batch.skipped, moved: batch.moved },
    customers: customers.map(({ key, outcome, record }) => ({
      customer: key,
      name: record?.name ?? '',
      submitted: outcome,
      state: record?.state ?? 'unknown',
      failed_step: record?.state === 'failed' ? (record.failedStep ?? null) : null,
      error: record?.state === 'failed' ? (record.error ?? null) : null,
      tenant_id: record?.facts.tenantId ?? null,
      user_id: record?.facts.userId ?? null,
      login: record?.facts.login ?? null,
      activation: record?.facts.activation ?? null,
    })),
  };
}

/** Scheme, host and port only, for logs: a callback URL may carry credentials or tokens in its path or query. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparsable URL)';
  }
}
