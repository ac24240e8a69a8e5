import formbody from '@fastify/formbody';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { setTimeout as sleep } from 'node:timers/promises';
import { ZodError } from 'zod';
import { badRequest, httpError, SimError, TokenEndpointError } from './errors.js';
import { pickFault } from './faults.js';
import { contextOf, setContext, type RequestContext } from './http.js';
import { documentedStatuses, hasOperation, validateResponseBody } from './openapi.js';
import { ApiRouter, RawBody } from './router.js';
import { registerApplicationRoutes } from './routes/applications.js';
import { registerAuthRoutes } from './routes/auth.js';
import { registerInspectRoutes } from './routes/inspect.js';
import { registerOfferingItemRoutes } from './routes/offering-items.js';
import { registerPricingRoutes } from './routes/pricing.js';
import { registerRegistrationTokenRoutes } from './routes/registration-tokens.js';
import { registerTenantRoutes } from './routes/tenants.js';
import { registerUserRoutes } from './routes/users.js';
import type { SimulatorRuntime } from './runtime.js';

const API_PREFIX = '/api/2';

function sendError(reply: FastifyReply, error: SimError): FastifyReply {
  for (const [name, value] of Object.entries(error.extra.headers ?? {})) reply.header(name, value);
  return reply.code(error.status).send(error.toBody());
}

/** Builds the Fastify app: /api/2 (the simulated API) and /__sim (control, never faulted). */
export async function buildServer(runtime: SimulatorRuntime): Promise<FastifyInstance> {
  const app = Fastify({ logger: false, forceCloseConnections: true, bodyLimit: 1024 * 1024 });

  // Parsers: JSON (an empty body is no body), forms (only POST /idp/token takes them), and
  // everything else kept raw so the route can answer 415 (ACRONIS-API.md §1).
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

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? request.url;
    if (path !== API_PREFIX && !path.startsWith(`${API_PREFIX}/`)) return;
    const template = request.routeOptions.url;
    const route = template
      ? template.slice(API_PREFIX.length).replace(/:(\w+)/g, '{$1}')
      : path.slice(API_PREFIX.length) || '/';
    const context: RequestContext = {
      isApi: true,
      route,
      endpoint: `${request.method} ${route}`,
      caller: null,
      commitThenFail: null,
      statsRecorded: false,
    };
    setContext(request, context);
    runtime.stats.arrive();

    const options = runtime.options;
    const retryAfter = runtime.rateLimiter.admit(options.rateLimit);
    if (retryAfter !== null) {
      throw new SimError(
        429,
        429,
        'Too Many Requests',
        `Rate limit of ${options.rateLimit} requests per second exceeded`,
        {
          headers: { 'retry-after': String(retryAfter) },
        },
      );
    }

    const delay =
      options.latencyMs + (options.jitterMs > 0 ? Math.floor(runtime.rolls.fraction() * options.jitterMs) : 0);
    if (delay > 0) await sleep(delay);

    const { fault, remaining } = pickFault(runtime.options.faults, request.method, route, () =>
      runtime.rolls.fraction(),
    );
    if (!fault) return;
    runtime.replaceFaults(remaining);
    switch (fault.kind) {
      case '5xx':
        throw new SimError(fault.status ?? 500, fault.status ?? 500, 'Internal Server Error', 'Injected fault: 5xx');
      case '429':
        throw new SimError(429, 429, 'Too Many Requests', 'Injected fault: 429', { headers: { 'retry-after': '1' } });
      case 'reset':
        context.statsRecorded = true;
        runtime.stats.record(context.endpoint, 'reset');
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      case 'hang': {
        context.statsRecorded = true;
        runtime.stats.record(context.endpoint, 'reset');
        reply.hijack();
        const hang = {
          destroy: () => request.raw.socket.destroy(),
          timer: setTimeout(() => {
            runtime.hanging.delete(hang);
            hang.destroy();
          }, fault.hangMs ?? 60_000),
        };
        runtime.hanging.add(hang);
        return reply;
      }
      case 'commit-then-fail':
        context.commitThenFail = fault;
        return;
    }
  });

  app.addHook('onSend', async (request, reply, payload) => {
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
  });

  app.addHook('onResponse', async (request, reply) => {
    const context = contextOf(request);
    if (context.isApi && !context.statsRecorded) runtime.stats.record(context.endpoint, reply.statusCode);
  });

  app.setErrorHandler((error: FastifyError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof SimError) return sendError(reply, error);
    if (error instanceof TokenEndpointError) return reply.code(error.status).send(error.toBody());
    if (error instanceof ZodError) {
      return sendError(
        reply,
        badRequest(error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')),
      );
    }
    const status = (error as FastifyError).statusCode;
    if (status !== undefined && status >= 400 && status < 500)
      return sendError(reply, httpError(status, error.message));
    console.error(`simulator: ${request.method} ${request.url} failed`, error);
    return sendError(reply, new SimError(500, 1000, 'Internal Server Error', error.message));
  });

  registerInspectRoutes(app, runtime);
  const router = new ApiRouter(app, runtime);
  registerAuthRoutes(router);
  registerTenantRoutes(router);
  registerApplicationRoutes(router);
  registerOfferingItemRoutes(router);
  registerPricingRoutes(router);
  registerUserRoutes(router);
  registerRegistrationTokenRoutes(router);

  app.setNotFoundHandler((request, reply) => {
    const context = contextOf(request);
    if (context.isApi && router.knowsPath(context.route)) {
      return sendError(reply, httpError(405, `${request.method} is not allowed on ${context.route}`));
    }
    return sendError(reply, httpError(404, `No such endpoint: ${request.method} ${request.url.split('?')[0]}`));
  });

  return app;
}
