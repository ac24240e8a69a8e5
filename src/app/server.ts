import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { requireConfig } from '../config.js';
import { createCallbackWorker } from '../producers/batch-callbacks.js';
import type { Producer } from '../producers/producer.js';
import { buildServer, type ServerLimits } from '../server.js';
import { scheduleCallback, type CallbackJob } from '../workers/callback-queue.js';
import type { App } from './app.js';
import { openProducer } from './producer.js';

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:3000, with the port actually bound (PORT=0 picks one). */
  url: string;
  producer: Producer;
  callbackWorker: Worker<CallbackJob>;
  /** Stops taking requests (in-flight ones finish), then the callback worker. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** Callback timings (tests shorten them); see CallbackWorkerOptions. */
  callbacks?: { recheckMs?: number; firstRetryMs?: number };
  /** Connection and webhook limits (tests lower them); see ServerLimits. */
  limits?: Partial<ServerLimits>;
}

/** What `serve` runs: the producer, the server on HOST:PORT, and the worker that delivers batch callbacks. */
export async function startServer(app: App, opts: StartServerOptions = {}): Promise<RunningServer> {
  const { config, logger } = app;
  const c = requireConfig(config, ['WEBHOOK_SECRET'], 'to serve the webhook');
  const webhookSecrets = [
    c.WEBHOOK_SECRET,
    ...(config.WEBHOOK_SECRET_PREVIOUS ? [config.WEBHOOK_SECRET_PREVIOUS] : []),
  ];
  const producer = await openProducer(app);
  const server = await buildServer({
    producer,
    redis: app.redis,
    keys: app.keys,
    webhookSecrets,
    scheduleCallback: (batchId, url) => scheduleCallback(app.callbacks, batchId, url),
    logger,
    ...(opts.limits ? { limits: opts.limits } : {}),
  });
  try {
    await server.listen({ host: config.HOST, port: config.PORT });
  } catch (err) {
    await server.close();
    throw err;
  }
  const callbackWorker = createCallbackWorker({
    connection: app.workerConnection(),
    prefix: config.QUEUE_PREFIX,
    store: app.store,
    secrets: webhookSecrets,
    logger,
    ...opts.callbacks,
  });
  const address = server.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    app: server,
    url: `http://${host}:${address.port}`,
    producer,
    callbackWorker,
    async close() {
      await server.close();
      await callbackWorker.close();
    },
  };
}
