import type { AddressInfo } from 'node:net';
import type { Worker } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { requireConfig, type Config } from '../config.js';
import type { CallbackPolicy } from '../producers/callback-target.js';
import { createCallbackWorker } from '../producers/batch-callbacks.js';
import type { Producer } from '../producers/producer.js';
import type { SignInCredentials } from '../dashboard/sign-in.js';
import { buildServer, type ServerLimits } from '../server.js';
import { closeWithin } from '../workers/bounded-close.js';
import { scheduleCallback, type CallbackJob } from '../workers/callback-queue.js';
import type { App } from './app.js';
import { dashboardCredentials, dashboardDeps } from './dashboard.js';
import { openProducer } from './producer.js';
import { openAppSources, readSourceFiles, type RunningSources, type SourceWorkerOptions } from './sources.js';

export interface RunningServer {
  app: FastifyInstance;
  /** e.g. http://127.0.0.1:3000, with the port actually bound (PORT=0 picks one). */
  url: string;
  producer: Producer;
  /** Absent without CALLBACK_SECRET. */
  callbackWorker: Worker<CallbackJob> | undefined;
  /** The sources of SOURCES_DIR, their intake store and their workers. */
  sources: RunningSources;
  /** Stops taking requests (in-flight ones get `timeoutMs`, default SHUTDOWN_TIMEOUT_MS), then the callback worker. */
  close(timeoutMs?: number): Promise<void>;
}

export interface StartServerOptions {
  /** Callback timings (tests shorten them); see CallbackWorkerOptions. */
  callbacks?: { recheckMs?: number; firstRetryMs?: number };
  /** Connection and webhook limits (tests lower them); see ServerLimits. */
  limits?: Partial<ServerLimits>;
  /** `serve`: ask the API again at start while it is not up yet, until this stop signal. */
  retryUntil?: AbortSignal;
  /** The dashboards' sign-in as dashboardCredentials gave it, when the caller checked it before opening anything. */
  signIn?: { credentials: SignInCredentials | undefined };
  /** Workers of the same process checked the Redis settings already: their verdict is said once. */
  redisSettingsChecked?: boolean;
  /** The sources' worker timings (tests shorten them). */
  sources?: SourceWorkerOptions;
}

/** What `serve` runs: the producer, the server on HOST:PORT, and the worker that delivers batch callbacks. */
export async function startServer(app: App, opts: StartServerOptions = {}): Promise<RunningServer> {
  const { config, logger } = app;
  const c = requireConfig(config, ['WEBHOOK_SECRET'], 'to serve the webhook');
  const webhookSecrets = [
    c.WEBHOOK_SECRET,
    ...(config.WEBHOOK_SECRET_PREVIOUS ? [config.WEBHOOK_SECRET_PREVIOUS] : []),
  ];
  const { credentials } = opts.signIn ?? { credentials: dashboardCredentials(config) };
  // A bad source file stops the start before Redis settings or the API are looked at.
  const sourceFiles = await readSourceFiles(app);
  if (!opts.redisSettingsChecked) await app.checkRedisSettings();
  const producer = await openProducer(app, opts.retryUntil ? { retryUntil: opts.retryUntil } : {});
  const sources = await openAppSources(app, producer, sourceFiles, opts.sources);
  const callbacks = callbackSettings(config);
  const server = await buildServer({
    producer,
    redis: app.redis,
    keys: app.keys,
    webhookSecrets,
    scheduleCallback: (batchId, url) => scheduleCallback(app.callbacks, app.box, batchId, url),
    ...(callbacks ? { callbacks: callbacks.policy } : {}),
    logger,
    dashboard: { ...dashboardDeps(app, credentials), sources: { sources: sources.sources, store: sources.store } },
    ...(opts.limits ? { limits: opts.limits } : {}),
    sources: { sources: sources.sources, store: sources.store, intake: app.intake },
  });
  try {
    await server.listen({ host: config.HOST, port: config.PORT });
  } catch (err) {
    await server.close();
    await Promise.all(sources.workers.map((w) => w.close()));
    throw err;
  }
  const callbackWorker = startCallbackWorker(app, callbacks, opts);
  const address = server.server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    app: server,
    url: `http://${host}:${address.port}`,
    producer,
    callbackWorker,
    sources,
    async close(timeoutMs = config.SHUTDOWN_TIMEOUT_MS) {
      // Side by side, so the two drains share the one SHUTDOWN_TIMEOUT_MS the process is given.
      // With Redis away a delivery cannot be recorded: it is made again after the next start.
      await Promise.all([
        closeServerWithin(server, timeoutMs),
        callbackWorker ? closeWithin(callbackWorker, timeoutMs, () => app.availability.isDown) : undefined,
        ...sources.workers.map((w) => closeWithin(w, timeoutMs, () => app.availability.isDown)),
      ]);
    },
  };
}

/** Without CALLBACK_SECRET no callback is accepted, so none is sent either. */
function startCallbackWorker(
  app: App,
  callbacks: ReturnType<typeof callbackSettings>,
  opts: StartServerOptions,
): Worker<CallbackJob> | undefined {
  if (!callbacks) {
    app.logger.info('CALLBACK_SECRET is not set: callback_url is refused and no callback is sent');
    return undefined;
  }
  return createCallbackWorker({
    connection: app.workerConnection(),
    prefix: app.config.QUEUE_PREFIX,
    store: app.store,
    box: app.box,
    policy: callbacks.policy,
    secrets: callbacks.secrets,
    logger: app.logger,
    availability: app.availability,
    ...opts.callbacks,
  });
}

/** Fastify's close waits for every in-flight request; at the deadline the sockets are cut. */
async function closeServerWithin(server: FastifyInstance, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      server.server.closeAllConnections();
      resolve();
    }, timeoutMs);
  });
  await Promise.race([server.close(), deadline]);
  clearTimeout(timer);
}

function callbackSettings(config: Config): { policy: CallbackPolicy; secrets: string[] } | undefined {
  if (!config.CALLBACK_SECRET) return undefined;
  return {
    policy: { allowedHosts: config.CALLBACK_ALLOWED_HOSTS, allowHttp: config.CALLBACK_ALLOW_HTTP },
    secrets: [config.CALLBACK_SECRET, ...(config.CALLBACK_SECRET_PREVIOUS ? [config.CALLBACK_SECRET_PREVIOUS] : [])],
  };
}
