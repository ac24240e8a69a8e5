import { fastify, LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { UnknownPartnerError } from './partners/partner-set.js';
import type { RedisConnection } from './redis/connection.js';
import { dashboard, type DashboardDeps } from './dashboard/dashboard.js';
import { readinessRoutes } from './dashboard/readiness.js';
import type { Logger } from './logger.js';
import type { CallbackPolicy } from './producers/callback-target.js';
import type { Producer } from './producers/producer.js';
import { webhookRoutes } from './producers/webhook.js';
import { partnerCheckOf } from './producers/partner-check.js';
import { createRefusalCounter, DEFAULT_WEBHOOK_LIMITS, type WebhookLimits } from './producers/webhook-gate.js';
import { sourceRoutes, type SourceRoutesOptions } from './sources/intake-route.js';
import { withRedisDeadline } from './redis/deadline.js';
import type { RedisKeys } from './redis/keys.js';

/**
 * The HTTP server of `serve` and `start`. Each feature is one plugin registered here: the
 * webhook, the health and readiness checks, and the dashboards.
 */
export interface ServerDeps {
  producer: Producer;
  /** The fail-fast connection: a request answers 503 rather than wait for Redis. */
  redis: RedisConnection;
  keys: RedisKeys;
  /** WEBHOOK_SECRET first, then WEBHOOK_SECRET_PREVIOUS when set. */
  webhookSecrets: readonly string[];
  scheduleCallback(batchId: string, url: string): Promise<void>;
  /** Where batch callbacks may go; absent when none are sent (no CALLBACK_SECRET). */
  callbacks?: CallbackPolicy;
  logger: Logger;
  /** Deadline of each Redis step of a request. */
  redisTimeoutMs?: number;
  /** The overview, bull-board and /metrics; absent, the server has none. */
  dashboard?: DashboardDeps;
  /** Connection and webhook limits (DEFAULT_SERVER_LIMITS; tests lower them). */
  limits?: Partial<ServerLimits>;
  /** `POST /webhooks/sources/<name>`; absent or empty, the server has no such route. */
  sources?: Pick<SourceRoutesOptions, 'sources' | 'store' | 'intake'>;
}

export interface ServerLimits extends WebhookLimits {
  /** Open connections at once; the operating system's accept beyond it is closed at once. */
  maxConnections: number;
  /** A connection that sends nothing for this long is closed (headers, body or idle keep-alive). */
  idleTimeoutMs: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  ...DEFAULT_WEBHOOK_LIMITS,
  maxConnections: 1024,
  idleTimeoutMs: 10_000,
};

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...deps.limits };
  const app = fastify({
    // Typed as fastify's base logger so the instance has the default type plugins are written for.
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // The webhook logs one line per call with its outcome; fastify's two per request would add
    // nothing (and /healthz is polled).
    logController: new LogController({ disableRequestLogging: true }),
    // Slow senders do not hold a connection for long: idle 10 s, headers 10 s, a whole request 30 s.
    connectionTimeout: limits.idleTimeoutMs,
    requestTimeout: 30_000,
    http: { headersTimeout: 10_000, connectionsCheckingInterval: 1000 },
  });
  app.server.maxConnections = limits.maxConnections;
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    // A customer recorded under a partner the partners file no longer lists: the operator's to fix, not a fault.
    if ((err as Error) instanceof UnknownPartnerError)
      return reply
        .status(409)
        .send({ error: `${err.message}; add the partner back to the partners file to act on its customers` });
    if (err.statusCode !== undefined && err.statusCode < 500) {
      return reply.status(err.statusCode).send({ error: err.message });
    }
    deps.logger.error({ err: err.message }, 'request failed');
    return reply.status(500).send({ error: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `no route ${request.method} ${request.url}` }),
  );
  await app.register(healthRoutes, { redis: deps.redis });
  await app.register(readinessRoutes, { redis: deps.redis, keys: deps.keys });
  if (deps.dashboard) await app.register(dashboard, deps.dashboard);
  // One count of refused requests per address for every route that authenticates its callers.
  const refusals = await createRefusalCounter(app, limits);
  await app.register(webhookRoutes, {
    refusals,
    enqueue: deps.producer.enqueue,
    profile: deps.producer.profile,
    partners: partnerCheckOf(deps.producer),
    redis: deps.redis,
    keys: deps.keys,
    secrets: deps.webhookSecrets,
    scheduleCallback: deps.scheduleCallback,
    ...(deps.callbacks ? { callbacks: deps.callbacks } : {}),
    logger: deps.logger,
    ...(deps.redisTimeoutMs !== undefined ? { redisTimeoutMs: deps.redisTimeoutMs } : {}),
    limits,
  });
  if (deps.sources && deps.sources.sources.size > 0)
    await app.register(sourceRoutes, {
      ...deps.sources,
      redis: deps.redis,
      logger: deps.logger,
      refusals,
      limits,
      ...(deps.redisTimeoutMs !== undefined ? { redisTimeoutMs: deps.redisTimeoutMs } : {}),
    });
  return app;
}

/** `GET /healthz`: 200 `{redis:"ok"}`, or 503 `{redis:"down"}` within a second when Redis does not answer. */
async function healthRoutes(app: FastifyInstance, opts: { redis: RedisConnection }): Promise<void> {
  app.get('/healthz', async (_request, reply) => {
    try {
      await withRedisDeadline(opts.redis, 'ping', 1000, opts.redis.ping());
      return reply.send({ redis: 'ok' });
    } catch {
      return reply.status(503).header('retry-after', '5').send({ redis: 'down' });
    }
  });
}
