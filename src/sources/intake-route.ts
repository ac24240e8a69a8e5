import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';
import {
  acceptRawBodies,
  createWebhookGate,
  DEFAULT_WEBHOOK_LIMITS,
  type RefusalCounter,
  type WebhookLimits,
} from '../producers/webhook-gate.js';
import type { RedisConnection } from '../redis/connection.js';
import { RedisOutageError, withRedisDeadline } from '../redis/deadline.js';
import { intakeJobId, type IntakeQueue } from '../workers/source-queues.js';
import type { AnswerOutcome, Delivery, SourceEvent } from './kind.js';
import { eventHashOf, type SourceIntakeStore } from './intake-store.js';
import type { Source, SourceSet } from './source-set.js';

/**
 * `POST /webhooks/sources/<name>` (docs/sources.md "The intake"): from the headers alone a caller
 * refused too often (429, the same per-address count as the webhook's), a body over 1 MiB (413)
 * and a request the kind can tell is unauthenticated (its `checkHeaders`); then, body read, the
 * kind's verification over the raw bytes, its parse, each event recorded once in Redis and an
 * intake job added for it, and the kind's answer. Nothing here calls the source or Acronis.
 */
export const SOURCE_ROUTE = '/webhooks/sources/:name';
export const MAX_SOURCE_BODY_BYTES = 1024 * 1024;
const RETRY_AFTER_SEC = 5;
const TOO_LARGE = 'the body is larger than 1 MiB';

export interface SourceRoutesOptions {
  sources: SourceSet;
  store: SourceIntakeStore;
  intake: IntakeQueue;
  /** The producers' fail-fast connection. */
  redis: RedisConnection;
  logger: Logger;
  refusals?: RefusalCounter;
  limits?: Partial<WebhookLimits>;
  redisTimeoutMs?: number;
}

interface Answer {
  outcome: AnswerOutcome;
  status: number;
  body: object;
  headers?: Record<string, string>;
}

interface RouteContext {
  opts: SourceRoutesOptions;
  log: Logger;
  redisTimeoutMs: number;
}

const sourceOf = (opts: SourceRoutesOptions, request: FastifyRequest) =>
  opts.sources.get((request.params as { name?: string }).name ?? '');

export const sourceRoutes: FastifyPluginAsync<SourceRoutesOptions> = async (app, opts) => {
  const ctx: RouteContext = {
    opts,
    log: opts.logger.child({ component: 'intake' }),
    redisTimeoutMs: opts.redisTimeoutMs ?? 2000,
  };
  // The kinds verify the bytes as sent.
  acceptRawBodies(app, MAX_SOURCE_BODY_BYTES, TOO_LARGE, ctx.log);
  const gate = await createWebhookGate(app, {
    limits: { ...DEFAULT_WEBHOOK_LIMITS, ...opts.limits },
    maxBodyBytes: MAX_SOURCE_BODY_BYTES,
    log: ctx.log,
    tooLarge: TOO_LARGE,
    ...(opts.refusals ? { refusals: opts.refusals } : {}),
    checkHeaders: (request) => {
      const source = sourceOf(opts, request) as Source;
      const verdict = source.kind.checkHeaders(request.headers, source.context(ctx.log), Date.now());
      if (verdict.ok) return verdict;
      return {
        ok: false,
        reason: verdict.reason,
        message: 'not authenticated',
        status: source.kind.answers.unauthenticated,
      };
    },
  });
  const onRequest = async (request: FastifyRequest, reply: FastifyReply) => {
    if (!sourceOf(opts, request))
      return reply.status(404).header('connection', 'close').send({ error: 'no such source' });
    return gate.onRequest(request, reply);
  };
  app.post(SOURCE_ROUTE, { bodyLimit: MAX_SOURCE_BODY_BYTES, onRequest }, async (request, reply) => {
    gate.bodyRead(request);
    const source = sourceOf(opts, request) as Source;
    const answer = await handle(ctx, source, request, () => gate.authFailed(request));
    reply.status(answer.status).headers(answer.headers ?? {});
    const said = answer.body as { error?: string; reason?: string };
    const shaped = source.kind.answerBody?.(answer.outcome, said.reason ?? said.error ?? '');
    return shaped ? reply.type(shaped.contentType).send(shaped.body) : reply.send(answer.body);
  });
};

function deliveryOf(source: Source, request: FastifyRequest): Delivery {
  const [path = '', query] = request.url.split(/\?(.*)/s, 2);
  const base = source.config.public_url ?? `${request.protocol}://${request.host}${path}`;
  return {
    method: request.method,
    signedUrl: query !== undefined ? `${base}?${query}` : base,
    headers: request.headers,
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    receivedAt: Date.now(),
  };
}

async function handle(
  ctx: RouteContext,
  source: Source,
  request: FastifyRequest,
  authFailed: () => Promise<void>,
): Promise<Answer> {
  const { kind, config } = source;
  const log = ctx.log.child({ source: config.name });
  const delivery = deliveryOf(source, request);
  const kindCtx = source.context(log);
  const verdict = await kind.verify(delivery, kindCtx);
  if (!verdict.ok && verdict.unavailable) {
    // Not the caller's fault, so not counted toward its refusals: the sender is asked to come back.
    log.warn({ reason: verdict.reason }, 'source request: could not be authenticated now, answered 503');
    return {
      outcome: 'unavailable',
      status: 503,
      headers: { 'retry-after': String(RETRY_AFTER_SEC) },
      body: { error: 'cannot authenticate the request now; send it again later' },
    };
  }
  if (!verdict.ok) {
    log.warn({ reason: verdict.reason, ip: request.ip }, 'source request refused: not authenticated');
    await authFailed();
    return { outcome: 'unauthenticated', status: kind.answers.unauthenticated, body: { error: 'not authenticated' } };
  }
  const parsed = kind.parse(delivery, kindCtx);
  try {
    if (!parsed.ok) return await unreadable(ctx, source, delivery, parsed.reason, log);
    return await accept(ctx, source, parsed.events, delivery.receivedAt, log);
  } catch (err) {
    if (!(err instanceof RedisOutageError)) throw err;
    log.warn({ reason: err.message }, 'source request: Redis unavailable, answered 503');
    const error = 'Redis is unavailable: the event was not recorded. Send it again later (it is recorded once).';
    return {
      outcome: 'unavailable',
      status: 503,
      headers: { 'retry-after': String(RETRY_AFTER_SEC) },
      body: { error },
    };
  }
}

/** Records each event once and adds an intake job for each not settled yet; answers at once. */
async function accept(
  ctx: RouteContext,
  source: Source,
  events: SourceEvent[],
  receivedAt: number,
  log: Logger,
): Promise<Answer> {
  const name = source.config.name;
  const guard = <T>(what: string, op: Promise<T>) => withRedisDeadline(ctx.opts.redis, what, ctx.redisTimeoutMs, op);
  const states = await guard('record events', ctx.opts.store.record(name, events, receivedAt));
  // A new event, or one recorded before a crash left it without its job: the job id makes adding it twice a no-op.
  const toWork = events.filter((_e, i) => states[i] === 'new' || states[i] === 'received');
  await guard(
    'add intake jobs',
    ctx.opts.intake.addBulk(
      toWork.map((event) => {
        const eventHash = eventHashOf(event.eventId);
        return {
          name: 'intake',
          data: { source: name, eventHash, event },
          opts: { jobId: intakeJobId(name, eventHash) },
        };
      }),
    ),
  );
  const recorded = states.filter((s) => s === 'new').length;
  log.info({ events: events.length, recorded, duplicates: events.length - recorded }, 'source events accepted');
  return {
    outcome: 'accepted',
    status: source.kind.answers.accepted,
    body: {
      accepted: recorded,
      duplicates: events.length - recorded,
      events: events.map((e, i) => ({ event_id: e.eventId, recorded: states[i] === 'new' ? 'new' : 'duplicate' })),
    },
  };
}

/** A body that authenticated but cannot be read: kept as a `rejected` event with the reason, answered so the sender stops. */
async function unreadable(
  ctx: RouteContext,
  source: Source,
  delivery: Delivery,
  reason: string,
  log: Logger,
): Promise<Answer> {
  const name = source.config.name;
  const eventId = `unreadable:${eventHashOf(delivery.rawBody.toString('latin1'))}`;
  const event: SourceEvent = { eventId, type: '(unreadable)', objectType: '', objectId: '', payload: {} };
  const guard = <T>(what: string, op: Promise<T>) => withRedisDeadline(ctx.opts.redis, what, ctx.redisTimeoutMs, op);
  await guard('record event', ctx.opts.store.record(name, [event], delivery.receivedAt));
  await guard('settle event', ctx.opts.store.settle(name, eventHashOf(eventId), 'rejected', { reason }));
  log.info({ reason }, 'source request unreadable');
  return {
    outcome: 'unreadable',
    status: source.kind.answers.unreadable,
    body: { error: 'the body cannot be read', reason },
  };
}
