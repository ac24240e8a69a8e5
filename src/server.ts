import type { AddressInfo } from 'node:net';
import { fastify, LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import { requireConfig, type Config } from './config.js';
import type { Logger } from './logger.js';
import { BatchCallbacks } from './producers/batch-callbacks.js';
import { openProducer, type Producer } from './producers/producer.js';
import { webhookRoutes } from './producers/webhook.js';
import { withRedisDeadline } from './producers/webhook-redis-guard.js';

/**
 * The HTTP server of `serve` and `start`. Each feature is one plugin registered here: today the
 * webhook and the health check; the dashboard will be one more `app.register(…)`.
 */
export interface ServerDeps {
  producer: Producer;
  /** WEBHOOK_SECRET first, then WEBHOOK_SECRET_PREVIOUS when set. */
  webhookSecrets: readonly string[];
  callbacks: BatchCallbacks;
  logger: Logger;
  /** Deadline of each Redis step of a request. */
  redisTimeoutMs?: number;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = fastify({
    // Typed as fastify's base logger so the instance has the default type plugins are written for.
    loggerInstance: deps.logger.child({ component: 'http' }) as FastifyBaseLogger,
    // One line per webhook call comes from the webhook itself, with its outcome; fastify's
    // two per request would add nothing (and /healthz is polled).
    logController: new LogController({ disableRequestLogging: true }),
    // Slow senders do not hold a connection forever.
    requestTimeout: 30_000,
  });
  app.setErrorHandler((err: FastifyError, _request, reply) => {
    if (err.statusCode !== undefined && err.statusCode < 500)
      return reply.status(err.statusCode).send({ error: err.message });
    deps.logger.error({ err: err.message }, 'request failed');
    return reply.status(500).send({ error: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({ error: `no route ${request.method} ${request.url}` }),
  );

  const redis = deps.producer.pipeline.redis;
  await app.register(healthRoutes, { redis });
  await app.register(webhookRoutes, {
    enqueue: deps.producer.enqueue,
    profile: deps.producer.profile,
    redis,
    keyPrefix: deps.producer.pipeline.config.QUEUE_PREFIX,
    secrets: deps.webhookSecrets,
    callbacks: deps.callbacks,
    logger: deps.logger,
    ...(deps.redisTimeoutMs !== undefined ? { redisTimeoutMs: deps.redisTimeoutMs } : {}),
  });
  return app;
}

/** `GET /healthz`: 200 `{redis:"ok"}`, or 503 `{redis:"down"}` within a second when Redis does not answer. */
async function healthRoutes(app: FastifyInstance, opts: { redis: Redis }): Promise<void> {
  app.get('/healthz', async (_request, reply) => {
    try {
      await withRedisDeadline(opts.redis, 'ping', 1000, opts.redis.ping());
      return reply.send({ redis: 'ok' });
    } catch {
      return reply.status(503).header('retry-after', '5').send({ redis: 'down' });
    }
  });
}

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:3000, with the port actually bound (PORT=0 picks one). */
  url: string;
  producer: Producer;
  callbacks: BatchCallbacks;
  /** Stops taking requests (in-flight ones finish), stops the callback loop, closes the producer. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  logger: Logger;
  /** How often the callback loop looks at pending batches (default 1 s). */
  callbackPollMs?: number;
}

/** What `serve` runs: the producer, the callback loop and the server listening on HOST:PORT. */
export async function startServer(config: Config, opts: StartServerOptions): Promise<RunningServer> {
  const c = requireConfig(config, ['WEBHOOK_SECRET'], 'to serve the webhook');
  const webhookSecrets = [
    c.WEBHOOK_SECRET,
    ...(config.WEBHOOK_SECRET_PREVIOUS ? [config.WEBHOOK_SECRET_PREVIOUS] : []),
  ];
  const producer = await openProducer(config, { logger: opts.logger });
  const callbacks = new BatchCallbacks({
    redis: producer.pipeline.redis,
    prefix: config.QUEUE_PREFIX,
    store: producer.pipeline.store,
    secrets: webhookSecrets,
    logger: opts.logger.child({ component: 'callbacks' }),
    ...(opts.callbackPollMs !== undefined ? { pollIntervalMs: opts.callbackPollMs } : {}),
  });
  let app: FastifyInstance | undefined;
  try {
    app = await buildServer({ producer, webhookSecrets, callbacks, logger: opts.logger });
    await app.listen({ host: config.HOST, port: config.PORT });
  } catch (err) {
    await app?.close();
    await producer.close();
    throw err;
  }
  callbacks.start();
  const address = app.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const server = app;
  return {
    app: server,
    url: `http://${host}:${address.port}`,
    producer,
    callbacks,
    async close() {
      await server.close();
      await callbacks.stop();
      await producer.close();
    },
  };
}
