import formbody from '@fastify/formbody';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZodError } from 'zod';
import { createLogger } from '../logger.js';
import { badRequest, httpError, SimError, TokenEndpointError } from './errors.js';
import { pickFault } from './faults.js';
import { contextOf, setContext, type RequestContext } from './http.js';
import { documentedStatuses, hasOperation, validateResponseBody } from './openapi.js';
import { ApiRouter, RawBody } from './router.js';
import { registerApplicationRoutes } from './routes/applications.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerConsoleRoutes } from './routes/console.js';
import { registerInspectRoutes } from './routes/inspect.js';
import { registerOfferingItemRoutes } from './routes/offering-items.js';
import { registerPricingRoutes } from './routes/pricing.js';
import { registerRegistrationTokenRoutes } from './routes/registration-tokens.js';
import { registerTenantLifecycleRoutes } from './routes/tenant-lifecycle.js';
import { registerTenantRoutes } from './routes/tenants.js';
import { registerUserListingRoutes } from './routes/user-listing.js';
import { registerUserRoutes } from './routes/users.js';
import type { SimulatorRuntime } from './runtime.js';

const API_PREFIX = '/api/2';

function sendError(reply: FastifyReply, error: SimError): FastifyReply {
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value);
  return reply.code(error.status).send(error.toBody());
}

/**
 * JSON (an empty body is no body), forms (only POST /idp/token takes them), and everything
 * else kept raw so the route can answer 415 (docs/acronis-api.md §1).
 */
async function registerBodyParsers(app: FastifyInstance): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, text, done) => {
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text as string));
    } catch (error) {
      done(badRequest(`The body is not valid JSON: ${(error as Error).message}`), undefined);
    }
  });
  await app.register(formbody);
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, bytes, done) => {
    done(null, new RawBody(request.headers['content-type'] ?? null, bytes as Buffer));
  });
}

/** The context of an /api/2 request, keyed by its OAS route; null for anything else. */
function apiContext(request: FastifyRequest): RequestContext | null {
  const path = request.url.split('?')[0] ?? request.url;
  if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)) return null;
  const template = request.routeOptions.url;
  const route = template
    ? template.slice(API_PREFIX.length).replace(/:(\w+)/g, '{$1}')
    : path.slice(API_PREFIX.length) || '/';
  return {
    isApi: true,
    route,
    endpoint: `${request.method} ${route}`,
    caller: null,
    commitThenFail: null,
    statsRecorded: false,
  };
}

function enforceRateLimit(runtime: SimulatorRuntime): void {
  const rateLimit = runtime.rateLimitNow();
  const retryAfter = runtime.rateLimiter.admit(rateLimit);
  if (retryAfter === null) {
    runtime.stats.admit();
    return;
  }
  throw new SimError(429, 429, 'Too Many Requests', `Rate limit of ${rateLimit} requests per second exceeded`, {
    headers: runtime.options.retryAfter ? { 'retry-after': String(retryAfter) } : {},
  });
}

async function simulateLatency(runtime: SimulatorRuntime): Promise<void> {
  const { latencyMs, jitterMs } = runtime.options;
  const delay = latencyMs + (jitterMs > 0 ? Math.floor(runtime.rolls.fraction() * jitterMs) : 0);
  if (delay > 0) await sleep(delay);
}

/** Takes the socket from Fastify without answering; the request counts as a reset. */
function abandonReply(runtime: SimulatorRuntime, context: RequestContext, reply: FastifyReply): void {
  context.statsRecorded = true;
  runtime.stats.record(context.endpoint, 'reset');
  reply.hijack();
}

/** Holds the socket open until `hangMs` has passed (or the simulator closes), then destroys it. */
function hang(runtime: SimulatorRuntime, request: FastifyRequest, hangMs: number): void {
  const held = {
    destroy: () => request.raw.socket.destroy(),
    timer: setTimeout(() => {
      runtime.hanging.delete(held);
      held.destroy();
    }, hangMs),
  };
  runtime.hanging.add(held);
}

/**
 * Applies the configured fault that matches, if any: 5xx and 429 answer at once, reset and
 * hang take the socket, commit-then-fail is left for the route to apply after its change.
 */
function injectFault(
  runtime: SimulatorRuntime,
  request: FastifyRequest,
  reply: FastifyReply,
  context: RequestContext,
): FastifyReply | undefined {
  const { fault, remaining } = pickFault(runtime.options.faults, request.method, context.route, () =>
    runtime.rolls.fraction(),
  );
  if (!fault) return undefined;
  runtime.replaceFaults(remaining);
  switch (fault.kind) {
    case '5xx':
      throw new SimError(fault.status ?? 500, fault.status ?? 500, 'Internal Server Error', 'Injected fault: 5xx');
    case '429':
      throw new SimError(429, 429, 'Too Many Requests', 'Injected fault: 429', {
        headers: fault.retryAfter === null ? {} : { 'retry-after': String(fault.retryAfter ?? 1) },
      });
    case 'reset':
      abandonReply(runtime, context, reply);
      request.raw.socket.destroy();
      return reply;
    case 'hang':
      abandonReply(runtime, context, reply);
      hang(runtime, request, fault.hangMs ?? 60_000);
      return reply;
    case 'commit-then-fail':
      context.commitThenFail = fault;
      return undefined;
    case 'concurrent-write':
      concurrentWrite(runtime, request.url);
      return undefined;
  }
}

/**
 * Another client changed the tenant or user the request is about just before it arrived (its
 * version grows by one), so a write carrying the version read before meets a version mismatch.
 */
function concurrentWrite(runtime: SimulatorRuntime, url: string): void {
  const match = /\/(tenants|users)\/([0-9a-f-]{36})/.exec(url);
  const { world } = runtime;
  const record = match?.[1] === 'users' ? world.users.get(match[2]!) : match ? world.tenants.get(match[2]!) : undefined;
  if (!record) return;
  record.version += 1;
  record.updatedAt = world.now();
}

/** onRequest, /api/2 only: context, then rate limit (429), latency, and an injected fault. */
function onApiRequest(runtime: SimulatorRuntime) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    const context = apiContext(request);
    if (!context) return undefined;
    setContext(request, context);
    runtime.stats.arrive();
    enforceRateLimit(runtime);
    await simulateLatency(runtime);
    return injectFault(runtime, request, reply, context);
  };
}

/** onSend: with `validateResponses`, records every /api/2 answer that departs from the OAS. */
function validateResponse(runtime: SimulatorRuntime) {
  return async (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> => {
    const context = contextOf(request);
    if (!context.isApi || !runtime.options.validateResponses || !hasOperation(context.endpoint)) return payload;
    const status = reply.statusCode;
    const contentType = String(reply.getHeader('content-type') ?? '');
    let errors: string[] = [];
    if (contentType.includes('application/json') && typeof payload === 'string') {
      errors = validateResponseBody(context.endpoint, status, JSON.parse(payload));
    } else if (
      (payload === null || payload === undefined || payload === '') &&
      !documentedStatuses(context.endpoint).includes(String(status))
    ) {
      errors = [`status ${status} is not documented for ${context.endpoint}`];
    }
    if (errors.length > 0) runtime.stats.violation({ endpoint: context.endpoint, status, errors });
    return payload;
  };
}

/** onResponse: counts the answer, unless a fault already counted it as a reset. */
function recordStats(runtime: SimulatorRuntime) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const context = contextOf(request);
    if (context.isApi && !context.statsRecorded) runtime.stats.record(context.endpoint, reply.statusCode);
  };
}

/** Every error becomes an errorScheme body, except the IdP's own OAuth errors. */
function handleError(error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (error instanceof SimError) return sendError(reply, error);
  if (error instanceof TokenEndpointError) return reply.code(error.status).send(error.toBody());
  if (error instanceof ZodError) {
    return sendError(
      reply,
      badRequest(error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')),
    );
  }
  const status = (error as FastifyError).statusCode;
  if (status !== undefined && status >= 400 && status < 500) return sendError(reply, httpError(status, error.message));
  request.log.error({ err: error, method: request.method, url: request.url }, 'simulator: request failed');
  return sendError(reply, new SimError(500, 1000, 'Internal Server Error', error.message));
}

function registerApiRoutes(app: FastifyInstance, runtime: SimulatorRuntime): ApiRouter {
  const router = new ApiRouter(app, runtime);
  registerAuthRoutes(router);
  registerTenantRoutes(router);
  registerTenantLifecycleRoutes(router);
  registerApplicationRoutes(router);
  registerOfferingItemRoutes(router);
  registerPricingRoutes(router);
  registerUserRoutes(router);
  registerUserListingRoutes(router);
  registerRegistrationTokenRoutes(router);
  return router;
}

/** 405 when another method of the route exists, else 404. */
function notFound(router: ApiRouter) {
  return (request: FastifyRequest, reply: FastifyReply): FastifyReply => {
    const context = contextOf(request);
    if (context.isApi && router.knowsPath(context.route)) {
      return sendError(reply, httpError(405, `${request.method} is not allowed on ${context.route}`));
    }
    return sendError(reply, httpError(404, `No such endpoint: ${request.method} ${request.url.split('?')[0]}`));
  };
}

/** Builds the Fastify app: /api/2 (the simulated API) and /__sim (control, never faulted). */
export async function buildServer(runtime: SimulatorRuntime): Promise<FastifyInstance> {
  // Only a request the simulator itself failed on is logged (to stderr): that is a bug in the double.
  const loggerInstance = createLogger({ level: 'error', destination: process.stderr, name: 'simulator' });
  const app = Fastify({
    loggerInstance: loggerInstance as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
  });
  await registerBodyParsers(app);
  app.addHook('onRequest', onApiRequest(runtime));
  app.addHook('onSend', validateResponse(runtime));
  app.addHook('onResponse', recordStats(runtime));
  app.setErrorHandler(handleError);
  registerInspectRoutes(app, runtime);
  registerConsoleRoutes(app, runtime);
  const router = registerApiRoutes(app, runtime);
  app.setNotFoundHandler(notFound(router));
  return app;
}
