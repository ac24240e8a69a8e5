import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { RedisConnection } from '../redis/connection.js';
import type { Logger } from '../logger.js';
import { RedisOutageError, withRedisDeadline } from '../redis/deadline.js';
import type { RedisKeys } from '../redis/keys.js';
import { customerKeyOf, type CustomerRequest, type FieldProblem } from '../onboarding/customer-request.js';
import type { EnqueueOutcome } from '../workers/onboarding-store.js';
import type { CallbackPolicy } from './callback-target.js';
import type { Producer } from './producer.js';
import { customerProblemField, parseWebhookBody, type WebhookBody } from './webhook-body.js';
import { movedPartnerReason, partnerConflicts, type PartnerCheck } from './partner-check.js';
import { PartnerMismatchError } from '../workers/enqueue.js';
import {
  acceptRawBodies,
  createWebhookGate,
  DEFAULT_WEBHOOK_LIMITS,
  type RefusalCounter,
  type WebhookLimits,
} from './webhook-gate.js';
import { WebhookReplayStore, type ClaimResult, type ReplayClaim, type ReplayOutcome } from './webhook-replay.js';
import { SIGNATURE_FUTURE_SKEW_SEC, SIGNATURE_TOLERANCE_SEC, verifySignature } from './webhook-signature.js';

/**
 * `POST /webhooks/customers` (docs/webhook.md), as a fastify plugin. The order of the
 * checks is the contract: from the headers alone (webhook-gate.ts) a client refused too often
 * (429), size (413), a missing or out-of-window signature (401) and too much in progress (503);
 * then, body read, the signature over the raw bytes (401), content type (415), delivery id (400), JSON (400), fields (400),
 * then Redis: replay store (200 for a replay, 409 while the same delivery is in progress or
 * for a delivery id used with another body) and enqueue (202). The handler never calls Acronis; every Redis step has a deadline (503).
 */

export const WEBHOOK_PATH = '/webhooks/customers';
export const MAX_BODY_BYTES = 1024 * 1024;
/** What a 503 asks the sender to wait, in seconds. */
export const RETRY_AFTER_SEC = 5;
/** How long a request waits for a concurrent one with the same delivery id before answering 409. */
const CONCURRENT_WAIT_MS = 2000;
/** Delivery ids are opaque to us; visible ASCII keeps them safe in keys and logs. */
const DELIVERY_ID = /^[\x21-\x7e]{1,200}$/;

export type WebhookCustomerOutcome = EnqueueOutcome | 'duplicate-in-request';

export interface WebhookAccepted extends ReplayOutcome {
  /** One per customer of the body, in its order. */
  customers: { index: number; customer: string; outcome: WebhookCustomerOutcome }[];
}

export interface WebhookOptions {
  enqueue: Producer['enqueue'];
  /** The profile customers are onboarded with: a customer asking for an edition it does not offer is refused (400). */
  profile?: Producer['profile'];
  /**
   * The partners a customer may name (docs/partners.md) and the records that say which one a
   * known customer has: an unknown partner, or another than the recorded one, is a 400.
   */
  partners?: PartnerCheck;
  /** The producers' fail-fast connection. */
  redis: RedisConnection;
  /** The install's Redis keys. (Not `prefix`: fastify's register() takes that as a route prefix.) */
  keys: RedisKeys;
  /** WEBHOOK_SECRET and, during a rotation, WEBHOOK_SECRET_PREVIOUS. */
  secrets: readonly string[];
  /** Remembers a batch's `callback_url`; its summary goes there once the batch has ended. */
  scheduleCallback(batchId: string, url: string): Promise<void>;
  /** Where callbacks may go; absent when the server sends none (no CALLBACK_SECRET): `callback_url` is refused. */
  callbacks?: CallbackPolicy;
  logger: Logger;
  /** Deadline of each Redis step of a request (the enqueue gets this plus 10 ms per customer). */
  redisTimeoutMs?: number;
  /** What an unauthenticated caller may cost (DEFAULT_WEBHOOK_LIMITS; tests lower them). */
  limits?: Partial<WebhookLimits>;
  /** Refused requests per address, shared with the sources' routes (default: the webhook's own). */
  refusals?: RefusalCounter;
}

interface Answer {
  status: number;
  body: object;
  headers?: Record<string, string>;
}

/** A request that passed every check before Redis: signed, JSON, valid. */
interface CheckedDelivery {
  timestamp: number;
  rawBody: Buffer;
  deliveryId: string | undefined;
  form: WebhookBody['form'];
  customers: CustomerRequest[];
  callbackUrl: string | undefined;
  log: Logger;
}

interface WebhookContext {
  opts: WebhookOptions;
  replay: WebhookReplayStore;
  redisTimeoutMs: number;
  log: Logger;
}

export const webhookRoutes: FastifyPluginAsync<WebhookOptions> = async (app, opts) => {
  const ctx: WebhookContext = {
    opts,
    replay: new WebhookReplayStore({
      redis: opts.redis,
      keys: opts.keys,
      // A signed request is remembered for as long as its signature could still be accepted.
      signedTtlSec: SIGNATURE_TOLERANCE_SEC + SIGNATURE_FUTURE_SKEW_SEC + 60,
    }),
    redisTimeoutMs: opts.redisTimeoutMs ?? 2000,
    log: opts.logger.child({ component: 'webhook' }),
  };
  const tooLarge = `the body is larger than ${MAX_BODY_BYTES} bytes (1 MiB); send at most 1,000 customers per request`;
  acceptRawBodies(app, MAX_BODY_BYTES, tooLarge, ctx.log);
  const gate = await createWebhookGate(app, {
    limits: { ...DEFAULT_WEBHOOK_LIMITS, ...opts.limits },
    maxBodyBytes: MAX_BODY_BYTES,
    log: ctx.log,
    ...(opts.refusals ? { refusals: opts.refusals } : {}),
  });
  const onRequest = (request: FastifyRequest, reply: FastifyReply) => gate.onRequest(request, reply);
  app.post(WEBHOOK_PATH, { bodyLimit: MAX_BODY_BYTES, onRequest }, async (request, reply) => {
    gate.bodyRead(request);
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const checked = checkDelivery(ctx, request, rawBody);
    if ('status' in checked && checked.status === 401) await gate.authFailed(request);
    const answer = 'status' in checked ? checked : await acceptOrUnavailable(ctx, checked);
    return reply
      .status(answer.status)
      .headers(answer.headers ?? {})
      .send(answer.body);
  });
};

/** The checks before Redis, in the contract's order: signature (401), content type (415), delivery id and body (400). */
function checkDelivery(ctx: WebhookContext, request: FastifyRequest, rawBody: Buffer): Answer | CheckedDelivery {
  const signature = verifySignature({ header: request.headers['x-signature'], rawBody, secrets: ctx.opts.secrets });
  if (!signature.ok) {
    ctx.log.warn({ reason: signature.reason, ip: request.ip }, 'webhook refused: signature');
    return { status: 401, body: { error: 'invalid signature', reason: signature.message } };
  }
  if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(String(request.headers['content-type'] ?? ''))) {
    return { status: 415, body: { error: 'Content-Type must be application/json' } };
  }
  const header = request.headers['x-delivery-id'];
  const deliveryId = Array.isArray(header) ? header[0] : header;
  if (deliveryId !== undefined && !DELIVERY_ID.test(deliveryId)) {
    const problems = [{ field: 'X-Delivery-Id', reason: 'must be 1 to 200 visible ASCII characters' }];
    return { status: 400, body: { error: 'invalid X-Delivery-Id', problems } };
  }
  const log = deliveryId === undefined ? ctx.log : ctx.log.child({ deliveryId });
  const body = parseBody(rawBody, ctx.opts, log);
  if ('status' in body) return body;
  return { timestamp: signature.timestamp, rawBody, deliveryId, ...body, log };
}

function parseBody(
  rawBody: Buffer,
  opts: Pick<WebhookOptions, 'profile' | 'callbacks' | 'partners'>,
  log: Logger,
): Answer | Pick<CheckedDelivery, 'form' | 'customers' | 'callbackUrl'> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch (err) {
    return { status: 400, body: { error: `the body is not JSON: ${(err as Error).message}` } };
  }
  const parsed = parseWebhookBody(json, opts.profile, opts.callbacks, opts.partners);
  if (!parsed.ok) {
    log.info({ problems: parsed.problems.length }, 'webhook refused: invalid body');
    return invalidRequest(parsed.problems);
  }
  return { form: parsed.body.form, customers: parsed.body.customers, callbackUrl: parsed.body.callbackUrl };
}

function invalidRequest(problems: readonly FieldProblem[]): Answer {
  return { status: 400, body: { error: 'invalid request: nothing was queued', problems } };
}

/**
 * A customer already recorded under another partner than the one it names: a 400 like any bad
 * customer, read before the delivery is claimed so a corrected body is not taken for a replay.
 */
async function movedCustomers(
  ctx: WebhookContext,
  delivery: CheckedDelivery,
  guard: <T>(what: string, op: Promise<T>) => Promise<T>,
): Promise<Answer | undefined> {
  const partners = ctx.opts.partners;
  if (!partners) return undefined;
  const conflicts = await guard('partner check', partnerConflicts(partners.store, partners, delivery.customers));
  const problems = conflicts.flatMap((p, i) =>
    p ? [{ field: customerProblemField(delivery.form, i, p.field), reason: p.reason }] : [],
  );
  if (problems.length === 0) return undefined;
  delivery.log.info({ problems: problems.length }, 'webhook refused: customer under another partner');
  return invalidRequest(problems);
}

/** The enqueue found a customer under another partner after our own look (a concurrent producer): nothing was queued. */
function mismatchAnswer(err: PartnerMismatchError, delivery: CheckedDelivery): Answer {
  const keys = delivery.customers.map(customerKeyOf);
  const problems = err.mismatches.map((m) => ({
    field: customerProblemField(delivery.form, Math.max(0, keys.indexOf(m.key)), 'partner'),
    reason: movedPartnerReason(m.key, m.recorded, m.asked),
  }));
  return invalidRequest(problems);
}

async function acceptOrUnavailable(ctx: WebhookContext, delivery: CheckedDelivery): Promise<Answer> {
  try {
    return await accept(ctx, delivery);
  } catch (err) {
    if (err instanceof PartnerMismatchError) return mismatchAnswer(err, delivery);
    if (!(err instanceof RedisOutageError)) throw err;
    delivery.log.warn({ reason: err.message }, 'webhook: Redis unavailable, answered 503');
    const error =
      'Redis is unavailable: the request may not have been queued. Send it again later (a delivery is never queued twice).';
    return { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SEC) }, body: { error } };
  }
}

/** Claims the delivery in the replay store, then enqueues it: 202, or the answer for a replay or a twin in progress. */
async function accept(ctx: WebhookContext, delivery: CheckedDelivery): Promise<Answer> {
  const { log, deliveryId } = delivery;
  const guard = <T>(what: string, op: Promise<T>) => withRedisDeadline(ctx.opts.redis, what, ctx.redisTimeoutMs, op);
  const input = {
    timestamp: delivery.timestamp,
    rawBody: delivery.rawBody,
    ...(deliveryId !== undefined ? { deliveryId } : {}),
  };
  const moved = await movedCustomers(ctx, delivery, guard);
  if (moved) return moved;
  const claimed = await claimOrWait(ctx.replay, input, guard);
  if (claimed.kind === 'pending') {
    log.info('webhook: the same delivery is in progress');
    const error = 'the same delivery is being processed; retry in a moment for its batch id';
    return { status: 409, headers: { 'retry-after': '1' }, body: { error } };
  }
  if (claimed.kind === 'conflict') {
    log.warn({ batchId: claimed.record.batch_id }, 'webhook refused: delivery id reused with a different body');
    const error = `X-Delivery-Id ${deliveryId ?? ''} was already used for a different body; nothing was queued (a new request needs a new delivery id)`;
    return { status: 409, body: { error } };
  }
  if (claimed.kind === 'done') {
    const { batch_id, accepted, duplicates } = claimed.record;
    log.info({ batchId: batch_id }, 'webhook: replay answered with its batch');
    return { status: 200, body: { batch_id, accepted, duplicates, replayed: true } };
  }
  // Runs to its end even when the answer has gone (a missed deadline): the replay store then
  // learns the batch, and the sender's retry is answered with it instead of queuing again.
  const work = enqueueDelivery(ctx, delivery, claimed.claim);
  work.catch((err: unknown) => {
    log.warn({ reason: (err as Error).message }, 'webhook: enqueue failed; the delivery may be sent again');
    return ctx.replay.release(claimed.claim).catch(() => undefined); // Redis down: the claim expires by itself
  });
  const answer = await withRedisDeadline(
    ctx.opts.redis,
    'enqueue',
    ctx.redisTimeoutMs + 10 * delivery.customers.length,
    work,
  );
  const { batch_id: batchId, accepted, duplicates } = answer;
  log.info(
    {
      batchId,
      customers: delivery.customers.length,
      accepted,
      duplicates,
      callback: delivery.callbackUrl !== undefined,
    },
    'webhook accepted',
  );
  return { status: 202, body: answer };
}

async function enqueueDelivery(
  ctx: WebhookContext,
  delivery: CheckedDelivery,
  claim: ReplayClaim,
): Promise<WebhookAccepted> {
  const { customers, callbackUrl, deliveryId } = delivery;
  const label =
    deliveryId !== undefined ? `delivery ${deliveryId}` : `signed ${new Date(delivery.timestamp * 1000).toISOString()}`;
  const { unique, outcomes } = dedupe(customers);
  const result = await ctx.opts.enqueue(
    { source: 'webhook', label },
    unique.map((u) => u.request),
  );
  result.customers.forEach((c, i) => {
    const index = (unique[i] as { index: number }).index;
    outcomes[index] = { index, customer: c.key, outcome: c.outcome };
  });
  const accepted = result.customers.filter((c) => c.outcome === 'queued' || c.outcome === 'replaced').length;
  const answer: WebhookAccepted = {
    batch_id: result.batch.id,
    accepted,
    duplicates: customers.length - accepted,
    customers: outcomes,
  };
  if (callbackUrl) await ctx.opts.scheduleCallback(result.batch.id, callbackUrl);
  await ctx.replay.finish(claim, {
    batch_id: answer.batch_id,
    accepted: answer.accepted,
    duplicates: answer.duplicates,
  });
  return answer;
}

/** Claims the request; a concurrent twin is waited for briefly, so the loser usually gets the winner's batch id. */
async function claimOrWait(
  replay: WebhookReplayStore,
  input: Parameters<WebhookReplayStore['claim']>[0],
  guard: <T>(what: string, op: Promise<T>) => Promise<T>,
): Promise<ClaimResult> {
  const deadline = Date.now() + CONCURRENT_WAIT_MS;
  for (;;) {
    const attempt = replay.claim(input);
    let claimed: ClaimResult;
    try {
      claimed = await guard('replay check', attempt);
    } catch (err) {
      // A claim that lands after its deadline (a frozen Redis waking up) would block the
      // sender's retries until PENDING_TTL_MS: give it back as soon as it lands.
      attempt.then((late) => (late.kind === 'claimed' ? replay.release(late.claim) : undefined)).catch(() => undefined);
      throw err;
    }
    if (claimed.kind !== 'pending' || Date.now() >= deadline) return claimed;
    await sleep(25);
  }
}

/** The first of each customer key goes to the queue; repeats in the same body are reported, not queued. */
function dedupe(customers: readonly CustomerRequest[]): {
  unique: { index: number; request: CustomerRequest }[];
  outcomes: WebhookAccepted['customers'];
} {
  const seen = new Set<string>();
  const unique: { index: number; request: CustomerRequest }[] = [];
  const outcomes: WebhookAccepted['customers'] = [];
  customers.forEach((request, index) => {
    const key = customerKeyOf(request);
    if (seen.has(key)) outcomes[index] = { index, customer: key, outcome: 'duplicate-in-request' };
    else {
      seen.add(key);
      unique.push({ index, request });
    }
  });
  return { unique, outcomes };
}
