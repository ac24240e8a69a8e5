import rateLimit from '@fastify/rate-limit';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';
import { precheckSignature } from './webhook-signature.js';

/**
 * What an unauthenticated caller may cost the webhook, checked before its body is read
 * (docs/webhook.md "Limits"): a client refused too often waits (429); a body over the
 * limit (413), or a missing, malformed or out-of-window signature (401), is answered from the
 * headers alone; past that, a request holds one of `maxInFlight` places (else 503) and must
 * deliver its body within `bodyTimeoutMs`. Every early answer closes the connection, so an
 * unread body is never kept.
 */
export interface WebhookLimits {
  /** Requests past the header checks, being read or handled at once; more are answered 503. */
  maxInFlight: number;
  /** A body not received in full after this long: the connection is closed. */
  bodyTimeoutMs: number;
  /** Refused signatures per client address and minute; past them the client gets 429 until the minute is over. */
  maxAuthFailuresPerMinute: number;
}

export const DEFAULT_WEBHOOK_LIMITS: WebhookLimits = {
  maxInFlight: 32,
  bodyTimeoutMs: 10_000,
  maxAuthFailuresPerMinute: 30,
};

export interface WebhookGate {
  /** The route's onRequest hook. */
  onRequest(request: FastifyRequest, reply: FastifyReply): Promise<unknown>;
  /** The body has arrived: its timer stops. */
  bodyRead(request: FastifyRequest): void;
  /** A signature was refused: it counts against the client. */
  authFailed(request: FastifyRequest): Promise<void>;
}

/** Counts refused requests per client address; one is shared by every route that authenticates callers. */
export type RefusalCounter = ReturnType<FastifyInstance['createRateLimit']>;

/** The refusal counter of a server: `maxAuthFailuresPerMinute` per address across the routes given it. */
export async function createRefusalCounter(app: FastifyInstance, limits: WebhookLimits): Promise<RefusalCounter> {
  await app.register(rateLimit, { global: false });
  return app.createRateLimit({ max: limits.maxAuthFailuresPerMinute, timeWindow: 60_000 });
}

/**
 * From the headers alone: whether the request could be authentic; `message` is what the caller is
 * told, `status` the answer (default 401; a vendor may want another).
 */
export type HeaderCheck = (
  request: FastifyRequest,
) => { ok: true } | { ok: false; reason: string; message: string; status?: number };

const webhookHeaders: HeaderCheck = (request) => precheckSignature(request.headers['x-signature']);

export interface WebhookGateOptions {
  limits: WebhookLimits;
  maxBodyBytes: number;
  log: Logger;
  /** Default: the webhook's X-Signature precheck. */
  checkHeaders?: HeaderCheck;
  /** Default: a counter of this gate's own. */
  refusals?: RefusalCounter;
  /** The 413 answer's error. */
  tooLarge?: string;
}

export async function createWebhookGate(app: FastifyInstance, opts: WebhookGateOptions): Promise<WebhookGate> {
  const { limits, maxBodyBytes, log } = opts;
  const failures = opts.refusals ?? (await createRefusalCounter(app, limits));
  const checkHeaders = opts.checkHeaders ?? webhookHeaders;
  const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  let inFlight = 0;
  const refuse = (reply: FastifyReply, status: number, body: object) =>
    reply.status(status).header('connection', 'close').send(body);

  return {
    async onRequest(request, reply) {
      const status = await failures(request, { increment: false });
      if (!status.isAllowed && status.remaining === 0) {
        reply.header('retry-after', String(Math.max(1, status.ttlInSeconds)));
        return refuse(reply, 429, { error: 'too many refused signatures from this address; wait and retry' });
      }
      if (Number(request.headers['content-length'] ?? 0) > maxBodyBytes) {
        const error =
          opts.tooLarge ??
          `the body is larger than ${maxBodyBytes} bytes (1 MiB); send at most 1,000 customers per request`;
        return refuse(reply, 413, { error });
      }
      const signature = checkHeaders(request);
      if (!signature.ok) {
        log.warn({ reason: signature.reason, ip: request.ip }, 'webhook refused: signature');
        await failures(request);
        return refuse(reply, signature.status ?? 401, {
          error: 'invalid signature',
          reason: signature.message,
        });
      }
      if (inFlight >= limits.maxInFlight) {
        log.warn({ inFlight, ip: request.ip }, 'webhook busy: answered 503');
        reply.header('retry-after', '1');
        return refuse(reply, 503, { error: 'too many requests in progress; retry in a moment' });
      }
      inFlight++;
      const timer = bodyTimer(request, limits.bodyTimeoutMs, log);
      timers.set(request, timer);
      reply.raw.once('close', () => {
        inFlight--;
        clearTimeout(timer);
      });
      return undefined;
    },
    bodyRead(request) {
      clearTimeout(timers.get(request));
    },
    async authFailed(request) {
      await failures(request);
    },
  };
}

/** A body not received in full in time: the connection is closed. */
function bodyTimer(request: FastifyRequest, timeoutMs: number, log: Logger): NodeJS.Timeout {
  return setTimeout(() => {
    log.warn({ ip: request.ip, timeoutMs }, 'webhook: body not received in time; closed');
    request.raw.destroy();
  }, timeoutMs);
}

/**
 * The routes of the plugin (scoped to it; other routes keep fastify's parsers) get the raw body,
 * whatever its type, for a signature over the bytes as sent; a body over the limit is 413 with
 * `tooLarge`, other errors a short answer without a stack.
 */
export function acceptRawBodies(app: FastifyInstance, maxBodyBytes: number, tooLarge: string, log: Logger): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: maxBodyBytes }, (_request, body, done) =>
    done(null, body),
  );
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err.statusCode === 413) return reply.status(413).send({ error: tooLarge });
    if (err.statusCode !== undefined && err.statusCode < 500)
      return reply.status(err.statusCode).send({ error: err.message });
    log.error({ err: err.message }, 'request failed');
    return reply.status(500).send({ error: 'internal error' });
  });
}
