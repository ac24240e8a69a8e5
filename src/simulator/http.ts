import type { FastifyRequest } from 'fastify';
import { badRequest, unauthorized } from './errors.js';
import type { Fault } from './options.js';
import type { Caller } from './world.js';

/** What the hooks learn about one request; kept beside it rather than on FastifyRequest. */
export interface RequestContext {
  /** Under /api/2: faults, latency, rate limit and stats apply. */
  isApi: boolean;
  /** The OAS route without /api/2, e.g. `/tenants/{tenant_id}`. */
  route: string;
  /** `METHOD route`, the stats and OAS key. */
  endpoint: string;
  caller: Caller | null;
  commitThenFail: Fault | null;
  /** Set when a fault already counted the request (reset/hang/drop). */
  statsRecorded: boolean;
}

const contexts = new WeakMap<FastifyRequest, RequestContext>();

export function setContext(request: FastifyRequest, context: RequestContext): void {
  contexts.set(request, context);
}

export function contextOf(request: FastifyRequest): RequestContext {
  let context = contexts.get(request);
  if (!context) {
    const route = request.url.split('?')[0] ?? request.url;
    context = {
      isApi: false,
      route,
      endpoint: `${request.method} ${route}`,
      caller: null,
      commitThenFail: null,
      statsRecorded: false,
    };
    contexts.set(request, context);
  }
  return context;
}

export function callerOf(request: FastifyRequest): Caller {
  const caller = contextOf(request).caller;
  if (!caller) throw unauthorized('Authentication required');
  return caller;
}

/** What a handler answers; the route wrapper sends it (after commit-then-fail had its say). */
export interface ApiReply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export const ok = (body: unknown): ApiReply => ({ status: 200, body });
export const created = (body: unknown): ApiReply => ({ status: 201, body });
export const noContent = (): ApiReply => ({ status: 204 });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A path parameter; UUID ones are checked against the OAS `uuid` pattern. */
export function pathParam(request: FastifyRequest, name: string, kind: 'uuid' | 'string' = 'uuid'): string {
  const value = (request.params as Record<string, string | undefined>)[name] ?? '';
  if (kind === 'uuid' && !isUuid(value)) throw badRequest(`'${name}' must be a UUID, got "${value}"`);
  return value;
}

/** Typed reads of query parameters, with the 400 a schema-checking server would give. */
export class Query {
  private readonly values: Record<string, unknown>;

  constructor(request: Pick<FastifyRequest, 'query'>) {
    this.values = (request.query ?? {}) as Record<string, unknown>;
  }

  has(name: string): boolean {
    return this.string(name) !== undefined;
  }

  string(name: string): string | undefined {
    const value = this.values[name];
    if (value === undefined) return undefined;
    if (Array.isArray(value)) throw badRequest(`'${name}' must be given once`);
    return String(value);
  }

  required(name: string): string {
    const value = this.string(name);
    if (value === undefined || value === '') throw badRequest(`'${name}' is required`);
    return value;
  }

  bool(name: string, fallback = false): boolean {
    const value = this.string(name);
    if (value === undefined || value === '') return fallback;
    if (value === 'true' || value === '1') return true;
    if (value === 'false' || value === '0') return false;
    throw badRequest(`'${name}' must be a boolean, got "${value}"`);
  }

  int(name: string, options: { min?: number; max?: number } = {}): number | undefined {
    const value = this.string(name);
    if (value === undefined || value === '') return undefined;
    if (!/^-?\d+$/.test(value)) throw badRequest(`'${name}' must be an integer, got "${value}"`);
    const number = Number(value);
    if (options.min !== undefined && number < options.min) throw badRequest(`'${name}' must be >= ${options.min}`);
    if (options.max !== undefined && number > options.max) throw badRequest(`'${name}' must be <= ${options.max}`);
    return number;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
    const value = this.string(name);
    if (value === undefined || value === '') return undefined;
    if (!(allowed as readonly string[]).includes(value))
      throw badRequest(`'${name}' must be one of ${allowed.join(', ')}`);
    return value as T;
  }

  /** Comma-separated list. */
  list(name: string): string[] | undefined {
    const value = this.string(name);
    if (value === undefined || value === '') return undefined;
    return value
      .split(',')
      .map((part) => part.trim())
      .filter((part) => part !== '');
  }
}
