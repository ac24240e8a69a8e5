import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import got from 'got';
import type { RedisConnection } from '../redis/connection.js';
import type { Logger } from '../logger.js';
import type { RedisAvailability } from '../redis/availability.js';
import { SecretBoxError, type SecretBox } from '../secrets/secret-box.js';
import { VERSION } from '../version.js';
import {
  CALLBACK_BACKOFF,
  CALLBACK_QUEUE,
  callbackJobId,
  callbackOrigin,
  callbackRetryDelay,
  callbackUrlPlace,
  storedInClear,
  type CallbackJob,
  type ClearUrlCallbackJob,
} from '../workers/callback-queue.js';
import type { BatchRecord, EnqueueOutcome, OnboardingStore } from '../workers/onboarding-store.js';
import { callbackLookup, callbackUrlProblem, type CallbackPolicy } from './callback-target.js';
import { signPayload } from './webhook-signature.js';

/**
 * Delivers the webhook's batch callbacks (jobs of the callback queue): once a batch has ended,
 * its summary is POSTed to `callback_url`, signed with CALLBACK_SECRET (never the webhook's
 * secret, so neither direction's messages pass for the other's), with
 * `X-Delivery-Id: callback-<batch id>` on every attempt. At least once: a receiver whose 2xx
 * was lost gets it again. Only a target the callback policy allows is connected to, and only
 * its origin is ever logged.
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

/**
 * What a sales system may see of a customer: ids and outcome, never the password or the agent
 * token; and only of customers this batch onboarded (queued or replaced). One it found onboarded
 * or queued already is named with its outcome, everything else null: a webhook naming another
 * producer's customer learns nothing of it.
 */
export interface CustomerSummary {
  customer: string;
  name: string | null;
  /** What submitting it did: queued, replaced, already-onboarded, already-queued. */
  submitted: EnqueueOutcome;
  state: string | null;
  failed_step: string | null;
  error: string | null;
  tenant_id: string | null;
  user_id: string | null;
  login: string | null;
  activation: string | null;
}

export interface CallbackWorkerOptions {
  /** A connection for the worker's blocking commands (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  prefix: string;
  store: OnboardingStore;
  /** Opens the sealed callback URLs. */
  box: SecretBox;
  /** Where callbacks may go, checked again before each attempt and when the name is resolved. */
  policy: CallbackPolicy;
  /** CALLBACK_SECRET, and CALLBACK_SECRET_PREVIOUS during a rotation. */
  secrets: readonly string[];
  logger: Logger;
  /** How long a batch that has not ended waits for its next look, unless its last customer promotes it first. */
  recheckMs?: number;
  /** First retry delay after a failed delivery; it doubles up to an hour. */
  firstRetryMs?: number;
  /** Per HTTP attempt. */
  requestTimeoutMs?: number;
  /** Absorbs connection errors (one outage, two lines: src/redis/availability.ts); others are logged. */
  availability?: Pick<RedisAvailability, 'observe'>;
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
    const fields = { batchId: job.data.batchId, target: callbackOrigin(job.data), attempts: job.attemptsMade };
    if (final) logger.error({ ...fields, reason: err.message }, 'batch callback given up');
    else logger.warn({ ...fields, reason: err.message }, 'batch callback failed; will try again');
  });
  worker.on('error', (err) => {
    if (opts.availability) opts.availability.observe('callback worker error', err);
    else logger.warn({ reason: err.message }, 'callback worker: Redis error');
  });
  return worker;
}

/**
 * A job an older version queued with the URL in clear: it would fail every attempt for ~15 h
 * (there is nothing to open), so it is given up on its first, and the clear URL is wiped from
 * Redis. Only the sender has the URL now: it must send the batch again.
 */
class ClearCallbackUrlError extends UnrecoverableError {
  constructor(origin: string) {
    super(
      `the callback URL (to ${origin}) was stored in clear by an older version and is not sent: ` +
        'ask the sender to send the batch again with its callback_url, or re-trigger the callback there',
    );
  }
}

async function giveUpClearUrl(job: Job<CallbackJob>): Promise<ClearCallbackUrlError> {
  const { batchId, registeredAt } = job.data;
  const origin = callbackOrigin(job.data);
  const wiped: ClearUrlCallbackJob = { batchId, registeredAt, origin };
  // Still no urlSealed: the failed job stays what it is, a callback that cannot be sent.
  await job.updateData(wiped as unknown as CallbackJob);
  return new ClearCallbackUrlError(origin);
}

async function deliverWhenSettled(opts: CallbackWorkerOptions, job: Job<CallbackJob>, token?: string): Promise<string> {
  if (storedInClear(job.data)) throw await giveUpClearUrl(job);
  const { batchId, registeredAt, origin } = job.data;
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
  const status = await post(openUrl(opts.box, job.data), summary, opts);
  opts.logger.info({ batchId, target: origin, status }, 'batch callback delivered');
  return `delivered (${status})`;
}

type BatchCustomers = Awaited<ReturnType<OnboardingStore['batchCustomers']>>;

/** A customer this batch onboarded (its chain, not one found queued or done elsewhere). */
function ownCustomer(batchId: string, c: BatchCustomers[number]): boolean {
  return (c.outcome === 'queued' || c.outcome === 'replaced') && c.record?.batchId === batchId;
}

/** The summary once the batch has ended and every customer it onboarded has finished. */
async function settledSummary(store: OnboardingStore, batchId: string): Promise<BatchSummary | 'gone' | 'waiting'> {
  const batch = await store.getBatch(batchId);
  if (!batch) return 'gone';
  if (!batch.ended) return 'waiting';
  const customers = await store.batchCustomers(batchId);
  const unsettled = customers.some(
    (c) => ownCustomer(batchId, c) && c.record?.state !== 'done' && c.record?.state !== 'failed',
  );
  return unsettled ? 'waiting' : summarise(batch, customers);
}

/** The sealed URL; one that does not open (another SECRETS_KEY, or altered) is given up. */
function openUrl(box: SecretBox, job: CallbackJob): string {
  try {
    return box.open(job.urlSealed, callbackUrlPlace(job.batchId));
  } catch (err) {
    if (err instanceof SecretBoxError) throw new UnrecoverableError(`the callback URL does not open: ${err.message}`);
    throw err;
  }
}

/** One POST; anything but a 2xx throws, and BullMQ tries again later. Errors name the origin only. */
async function post(url: string, summary: BatchSummary, opts: CallbackWorkerOptions): Promise<number> {
  const target = new URL(url);
  const refused = callbackUrlProblem(target, opts.policy);
  if (refused) throw new UnrecoverableError(`callback_url ${refused}`);
  const body = JSON.stringify(summary);
  const response = await got
    .post(target, {
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': `acronis-onboard/${VERSION} (batch callback)`,
        'x-delivery-id': callbackJobId(summary.batch_id),
        'x-signature': signPayload(opts.secrets, body),
      },
      dnsLookup: callbackLookup(opts.policy) as never,
      timeout: { request: opts.requestTimeoutMs ?? 10_000 },
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
    })
    .catch((err: unknown) => {
      throw requestFailed(err, target.origin);
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
    customers: customers.map((c) => (ownCustomer(batch.id, c) ? ownSummary(c) : foundSummary(c))),
  };
}

function ownSummary({ key, outcome, record }: BatchCustomers[number]): CustomerSummary {
  return {
    customer: key,
    name: record?.name ?? null,
    submitted: outcome,
    state: record?.state ?? 'unknown',
    failed_step: record?.state === 'failed' ? (record.failedStep ?? null) : null,
    error: record?.state === 'failed' ? (record.error ?? null) : null,
    tenant_id: record?.facts.tenantId ?? null,
    user_id: record?.facts.userId ?? null,
    login: record?.facts.login ?? null,
    activation: record?.facts.activation ?? null,
  };
}

/** A customer the batch found onboarded or queued already: its outcome, nothing of its record. */
function foundSummary({ key, outcome }: BatchCustomers[number]): CustomerSummary {
  const none = { name: null, state: null, failed_step: null, error: null, tenant_id: null, user_id: null };
  return { customer: key, submitted: outcome, ...none, login: null, activation: null };
}

/**
 * The error BullMQ records and the logs show: the origin and the cause's code, never the URL
 * (its path or query may hold a token). A refused target is never retried.
 */
function requestFailed(err: unknown, origin: string): Error {
  const code = (err as { code?: string }).code;
  // got keeps the code of the error it wraps: our lookup's refusal names host and address only.
  if (code === 'ERR_CALLBACK_TARGET')
    return new UnrecoverableError(`callback_url refused when connecting: ${(err as Error).message}`);
  return new Error(`the request to ${origin} failed (${code ?? 'error'})`);
}
