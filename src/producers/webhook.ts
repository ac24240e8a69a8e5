import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyError, FastifyPluginAsync, FastifyReply } from 'fastify';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { customerKeyOf, type CustomerRequest } from '../onboarding/customer-request.js';
import type { EnqueueOutcome } from '../workers/onboarding-store.js';
import type { BatchCallbacks } from './batch-callbacks.js';
import type { Producer } from './producer.js';
import { parseWebhookBody } from './webhook-body.js';
import { RedisOutageError, withRedisDeadline } from './webhook-redis-guard.js';
import { WebhookReplayStore, type ClaimResult, type ReplayOutcome } from './webhook-replay.js';
import { SIGNATURE_FUTURE_SKEW_SEC, SIGNATURE_TOLERANCE_SEC, verifySignature } from './webhook-signature.js';

/**
 * `POST /webhooks/customers` (DESIGN.md "Webhook"), as a fastify plugin. The order of the
 * checks is the contract: size (413, fastify's bodyLimit, before a byte is kept), signature
 * over the raw bytes (401), content type (415), delivery id (400), JSON (400), fields (400),
 * then Redis: replay store (200 for a replay, 409 while the same delivery is in progress) and
 * enqueue (202). The handler never calls Acronis; every Redis step has a deadline (503).
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
  /** The producers' fail-fast connection. */
  redis: Redis;
  /** QUEUE_PREFIX. (Not `prefix`: fastify's register() takes that as a route prefix.) */
  keyPrefix: string;
  /** WEBHOOK_SECRET and, during a rotation, WEBHOOK_SECRET_PREVIOUS. */
  secrets: readonly string[];
  callbacks: BatchCallbacks;
  logger: Logger;
  /** Deadline of each Redis step of a request (the enqueue gets this plus 10 ms per customer). */
  redisTimeoutMs?: number;
}

export const webhookRoutes: FastifyPluginAsync<WebhookOptions> = async (app, opts) => {
  const replay = new WebhookReplayStore({
    redis: opts.redis,
    prefix: opts.keyPrefix,
    // A signed request is remembered for as long as its signature could still be accepted.
    signedTtlSec: SIGNATURE_TOLERANCE_SEC + SIGNATURE_FUTURE_SKEW_SEC + 60,
  });
  const redisTimeoutMs = opts.redisTimeoutMs ?? 2000;
  const baseLog = opts.logger.child({ component: 'webhook' });

  // The signature covers the bytes as sent: this plugin's routes get the raw body, whatever
  // its type (scoped to the plugin; other routes keep fastify's parsers).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) =>
    done(null, body),
  );

  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err.statusCode === 413)
      return reply.status(413).send({
        error: `the body is larger than ${MAX_BODY_BYTES} bytes (1 MiB); send at most 1,000 customers per request`,
      });
    if (err.statusCode !== undefined && err.statusCode < 500)
      return reply.status(err.statusCode).send({ error: err.message });
    baseLog.error({ err: err.message }, 'webhook failed');
    return reply.status(500).send({ error: 'internal error' });
  });

  app.post(WEBHOOK_PATH, { bodyLimit: MAX_BODY_BYTES }, async (request, reply) => {
    const rawBody = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);

    const signature = verifySignature({ header: request.headers['x-signature'], rawBody, secrets: opts.secrets });
    if (!signature.ok) {
      baseLog.warn({ reason: signature.reason, ip: request.ip }, 'webhook refused: signature');
      return reply.status(401).send({ error: 'invalid signature', reason: signature.message });
    }

    const contentType = String(request.headers['content-type'] ?? '');
    if (!/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType)) {
      return reply.status(415).send({ error: 'Content-Type must be application/json' });
    }

    const deliveryHeader = request.headers['x-delivery-id'];
    const deliveryId = Array.isArray(deliveryHeader) ? deliveryHeader[0] : deliveryHeader;
    if (deliveryId !== undefined && !DELIVERY_ID.test(deliveryId)) {
      return reply.status(400).send({
        error: 'invalid X-Delivery-Id',
        problems: [{ field: 'X-Delivery-Id', reason: 'must be 1 to 200 visible ASCII characters' }],
      });
    }
    const log = deliveryId === undefined ? baseLog : baseLog.child({ deliveryId });

    let json: unknown;
    try {
      json = JSON.parse(rawBody.toString('utf8'));
    } catch (err) {
      return reply.status(400).send({ error: `the body is not JSON: ${(err as Error).message}` });
    }
    const parsed = parseWebhookBody(json, opts.profile);
    if (!parsed.ok) {
      log.info({ problems: parsed.problems.length }, 'webhook refused: invalid body');
      return reply.status(400).send({ error: 'invalid request: nothing was queued', problems: parsed.problems });
    }
    const { customers, callbackUrl } = parsed.body;

    try {
      const claimed = await claimOrWait(
        replay,
        { timestamp: signature.timestamp, rawBody, ...(deliveryId !== undefined ? { deliveryId } : {}) },
        (what, op) => withRedisDeadline(opts.redis, what, redisTimeoutMs, op),
      );
      if (claimed.kind === 'pending') {
        log.info('webhook: the same delivery is in progress');
        return reply
          .status(409)
          .header('retry-after', '1')
          .send({ error: 'the same delivery is being processed; retry in a moment for its batch id' });
      }
      if (claimed.kind === 'done') {
        const { batch_id, accepted, duplicates } = claimed.record;
        log.info({ batchId: batch_id, sameBody: claimed.sameBody }, 'webhook: replay answered with its batch');
        return reply.status(200).send({
          batch_id,
          accepted,
          duplicates,
          replayed: true,
          ...(claimed.sameBody
            ? {}
            : { warning: 'this delivery id was first used with a different body; nothing from this body was queued' }),
        });
      }

      const { claim } = claimed;
      const label =
        deliveryId !== undefined
          ? `delivery ${deliveryId}`
          : `signed ${new Date(signature.timestamp * 1000).toISOString()}`;
      // Runs to its end even when the answer has gone (a missed deadline): the replay store then
      // learns the batch, and the sender's retry is answered with it instead of queuing again.
      const work = (async (): Promise<WebhookAccepted> => {
        const { unique, outcomes } = dedupe(customers);
        const result = await opts.enqueue(
          { source: 'webhook', label },
          unique.map((u) => u.request),
        );
        result.customers.forEach(
          (c, i) => (outcomes[unique[i]!.index] = { index: unique[i]!.index, customer: c.key, outcome: c.outcome }),
        );
        const accepted = result.customers.filter((c) => c.outcome === 'queued' || c.outcome === 'replaced').length;
        const answer: WebhookAccepted = {
          batch_id: result.batch.id,
          accepted,
          duplicates: customers.length - accepted,
          customers: outcomes,
        };
        if (callbackUrl) await opts.callbacks.register(result.batch.id, callbackUrl);
        await replay.finish(claim, {
          batch_id: answer.batch_id,
          accepted: answer.accepted,
          duplicates: answer.duplicates,
        });
        return answer;
      })();
      work.catch((err: unknown) => {
        log.warn({ reason: (err as Error).message }, 'webhook: enqueue failed; the delivery may be sent again');
        return replay.release(claim).catch(() => undefined); // Redis down: the claim expires by itself
      });
      const answer = await withRedisDeadline(opts.redis, 'enqueue', redisTimeoutMs + 10 * customers.length, work);
      log.info(
        {
          batchId: answer.batch_id,
          customers: customers.length,
          accepted: answer.accepted,
          duplicates: answer.duplicates,
          callback: callbackUrl !== undefined,
        },
        'webhook accepted',
      );
      return reply.status(202).send(answer);
    } catch (err) {
      if (err instanceof RedisOutageError) {
        log.warn({ reason: err.message }, 'webhook: Redis unavailable, answered 503');
        return unavailable(reply);
      }
      throw err;
    }
  });
};

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

function unavailable(reply: FastifyReply) {
  return reply.status(503).header('retry-after', String(RETRY_AFTER_SEC)).send({
    error:
      'Redis is unavailable: the request may not have been queued. Send it again later (a delivery is never queued twice).',
  });
}
