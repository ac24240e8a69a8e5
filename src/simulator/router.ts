import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticate } from './auth.js';
import { badRequest, httpError, SimError } from './errors.js';
import { contextOf, type ApiReply } from './http.js';
import { operationSecurity, requestMediaType, validateRequestBody } from './openapi.js';
import { splitOperation, type SimulatedOperation } from './operations.js';
import type { SimulatorRuntime } from './runtime.js';
import type { Caller, World } from './world.js';

/** A body the server could not parse because of its Content-Type; a JSON route answers 415. */
export class RawBody {
  constructor(
    readonly contentType: string | null,
    readonly bytes: Buffer,
  ) {}
}

export interface HandlerInput {
  request: FastifyRequest;
  runtime: SimulatorRuntime;
  world: World;
  /** The authenticated caller (401 when the operation needs one and there is none). */
  readonly caller: Caller;
  /** The request body, validated against the OAS request schema. */
  body: unknown;
}

export type ApiHandler = (input: HandlerInput) => ApiReply | Promise<ApiReply>;

export interface RouteOptions {
  /** Skip the generic OAS body check (the IdP answers its own error format). */
  validateBody?: boolean;
}

function mediaType(request: FastifyRequest): string {
  return (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * Registers /api/2 operations. Each request goes: authentication (401) → Content-Type (415)
 * → request body against the OAS (400) → handler → commit-then-fail fault → reply.
 */
export class ApiRouter {
  readonly templates: { method: string; pattern: RegExp }[] = [];

  constructor(
    private readonly app: FastifyInstance,
    private readonly runtime: SimulatorRuntime,
  ) {}

  add(operation: SimulatedOperation, handler: ApiHandler, options: RouteOptions = {}): void {
    const { method, path } = splitOperation(operation);
    this.templates.push({ method, pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`) });
    this.app.route({
      method: method as 'GET',
      url: `/api/2${path.replace(/\{(\w+)\}/g, ':$1')}`,
      handler: (request, reply) => this.run(operation, handler, options, request, reply),
    });
  }

  /** Whether some operation has this route under another method (405 rather than 404). */
  knowsPath(route: string): boolean {
    return this.templates.some((t) => t.pattern.test(route));
  }

  private async run(
    operation: SimulatedOperation,
    handler: ApiHandler,
    options: RouteOptions,
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<FastifyReply> {
    const context = contextOf(request);
    const security = operationSecurity(operation);
    if (!security.none) context.caller = authenticate(request, this.runtime.world, security.basic);

    const expected = requestMediaType(operation);
    if (expected !== null && mediaType(request) !== expected) {
      throw httpError(415, `Content-Type must be ${expected}, got "${request.headers['content-type'] ?? ''}"`);
    }
    if (request.body instanceof RawBody && request.body.bytes.length > 0) {
      throw httpError(415, `Content-Type "${request.body.contentType ?? ''}" is not supported`);
    }

    const body: unknown = request.body instanceof RawBody ? undefined : request.body;
    if (expected !== null && options.validateBody !== false) {
      if (body === undefined) throw badRequest('The request body is required');
      const errors = validateRequestBody(operation, body);
      if (errors.length > 0) throw badRequest(errors.join('; '), errors);
    }

    const input: HandlerInput = {
      request,
      runtime: this.runtime,
      world: this.runtime.world,
      get caller(): Caller {
        if (!context.caller) throw httpError(401, 'Authentication required');
        return context.caller;
      },
      body,
    };
    const result = await handler(input);

    // The change is committed; now the client may never learn it (the fault that makes
    // naive retries create duplicates).
    const fault = context.commitThenFail;
    if (fault) {
      if (fault.drop) {
        context.statsRecorded = true;
        this.runtime.stats.record(context.endpoint, 'reset');
        reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      throw new SimError(
        fault.status ?? 500,
        fault.status ?? 500,
        'Internal Server Error',
        'Injected fault: commit-then-fail',
      );
    }

    reply.code(result.status);
    for (const [name, value] of Object.entries(result.headers ?? {})) reply.header(name, value);
    return result.body === undefined ? reply.send() : reply.send(result.body);
  }
}
