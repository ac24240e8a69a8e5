import got, { RequestError, TimeoutError, type Got, type Response } from 'got';
import type { ClientRequest } from 'node:http';
import type { z } from 'zod';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { AcronisApiError, parseRetryAfter, type AcronisErrorDetails, type AcronisErrorKind } from './errors.js';
import { TokenIssueError, TokenWaitTimeoutError } from './token-cache.js';

/**
 * The HTTP layer under every endpoint function: base URL, User-Agent, auth, error
 * mapping, response parsing. It never retries on its own (got's retry is off): BullMQ owns
 * retries, so a mutating call is never silently repeated inside a job's lock
 * (docs/bullmq.md §1.3). The one exception is a 401 on a bearer call: the request was
 * refused before anything happened, so it is re-sent once with a fresh token
 * (docs/acronis-api.md §2.3).
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export type RequestAuth = { type: 'bearer' } | { type: 'basic'; username: string; password: string } | { type: 'none' };

export interface ApiRequest {
  method: HttpMethod;
  /** Path below `/api/2`, starting with `/`. */
  path: string;
  searchParams?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  form?: Record<string, string>;
  auth?: RequestAuth;
  signal?: AbortSignal;
}

/** What the transport needs of the token cache (src/acronis/token-cache.ts). */
export interface AccessTokenSource {
  get(): Promise<string>;
  invalidate(staleToken: string): Promise<void>;
}

/** Hook called before every HTTP attempt: the pipeline's shared request budget, and its job-lock guard. */
export interface RequestThrottle {
  /**
   * Resolves when the request may be sent. A number it resolves with is the send time on the
   * throttle's own clock (the request budget's slot, µs on Redis' clock), which a 429 carries back
   * (AcronisApiError.sentAt) for the budget to judge it by.
   */
  acquire(signal?: AbortSignal, request?: Pick<ApiRequest, 'method' | 'path'>): Promise<unknown>;
  /** The request `acquire` let go with this slot has been written to its connection (RequestBudget.sent). */
  sent?(slot: unknown): void;
}

/** Told of every HTTP attempt once it has an answer (or none): the metrics' API counters and latency. */
export interface CallObserver {
  called(call: { method: HttpMethod; path: string; status: number | 'timeout' | 'network'; ms: number }): void;
}

export interface TransportOptions {
  /** Data-centre URL, e.g. https://eu2-cloud.acronis.com (no /api/2). */
  baseUrl: string;
  tokens?: AccessTokenSource;
  throttle?: RequestThrottle;
  observer?: CallObserver;
  timeoutMs?: number;
  userAgent: string;
  logger?: Logger;
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The send time the throttle gave, on its clock (RequestThrottle.acquire). */
  sentAt?: number;
}

export class AcronisTransport {
  private readonly http: Got;
  private readonly logger: Logger;

  constructor(private readonly options: TransportOptions) {
    this.logger = options.logger ?? silentLogger;
    this.http = got.extend({
      prefixUrl: `${options.baseUrl.replace(/\/+$/, '')}/api/2`,
      retry: { limit: 0 },
      throwHttpErrors: false,
      followRedirect: false,
      responseType: 'buffer',
      timeout: { request: options.timeoutMs ?? 30_000 },
      headers: { 'user-agent': options.userAgent, accept: 'application/json' },
    });
  }

  /** Sends the request and parses a JSON body with `schema`; a non-2xx answer throws AcronisApiError. */
  async json<S extends z.ZodType>(request: ApiRequest, schema: S): Promise<z.output<S>> {
    const response = await this.send(request);
    const text = response.body.toString('utf8');
    let payload: unknown;
    try {
      payload = JSON.parse(text);
    } catch (cause) {
      throw this.invalidResponse(request, response.status, `the body is not JSON: ${text.slice(0, 120)}`, cause);
    }
    const parsed = schema.safeParse(payload);
    if (!parsed.success) {
      const first = parsed.error.issues[0];
      throw this.invalidResponse(
        request,
        response.status,
        `the body does not match the expected shape at ${first?.path.join('.') || '(root)'}: ${first?.message}`,
        parsed.error,
      );
    }
    return parsed.data;
  }

  /** Sends the request for its status only (204 endpoints). */
  async empty(request: ApiRequest): Promise<number> {
    return (await this.send(request)).status;
  }

  /** Sends the request; returns any 2xx (and the statuses in `accept`), throws AcronisApiError otherwise. */
  async send(request: ApiRequest, accept: readonly number[] = []): Promise<RawResponse> {
    const auth = request.auth ?? { type: 'bearer' };
    if (auth.type !== 'bearer') return this.checked(request, await this.attempt(request, undefined), accept);

    const tokens = this.options.tokens;
    if (!tokens) throw new Error('AcronisTransport: a bearer call needs a token source');
    const token = await this.accessToken(tokens, request);
    const first = await this.attempt(request, token);
    if (first.status !== 401) return this.checked(request, first, accept);

    // The token expired early or was revoked: drop it (only if nobody replaced it yet), re-issue once, re-send once.
    this.logger.info(
      { method: request.method, path: request.path },
      'acronis answered 401; re-issuing the access token once',
    );
    await tokens.invalidate(token);
    const fresh = await this.accessToken(tokens, request);
    return this.checked(request, await this.attempt(request, fresh), accept);
  }

  /**
   * Token failures reach callers as AcronisApiError like every other failure, so retry
   * classification stays in one place even when another process made the failed /idp/token call.
   */
  private async accessToken(tokens: AccessTokenSource, request: ApiRequest): Promise<string> {
    try {
      return await tokens.get();
    } catch (cause) {
      if (cause instanceof AcronisApiError) throw cause;
      if (cause instanceof TokenWaitTimeoutError) {
        throw new AcronisApiError(`${request.method} ${request.path}: ${cause.message}`, {
          kind: 'timeout',
          method: 'POST',
          path: '/idp/token',
          cause,
        });
      }
      if (cause instanceof TokenIssueError) {
        const remote = cause.remote as Partial<AcronisErrorDetails> & { kind?: AcronisErrorKind };
        throw new AcronisApiError(cause.message, {
          // A remote failure without an HTTP answer was a network problem on that host.
          kind: remote.kind ?? (cause.retryable ? 'network' : 'http'),
          method: 'POST',
          path: '/idp/token',
          status: remote.status,
          code: remote.code,
          domain: remote.domain ?? null,
          info: remote.info ?? null,
          retryAfterMs: remote.retryAfterMs,
          cause,
        });
      }
      throw cause;
    }
  }

  private async attempt(request: ApiRequest, bearer: string | undefined): Promise<RawResponse> {
    const slot = await this.options.throttle?.acquire(request.signal, request);
    const sentAt = typeof slot === 'number' ? slot : undefined;
    const auth = request.auth ?? { type: 'bearer' };
    const started = Date.now();
    try {
      const call = this.http(request.path.replace(/^\//, ''), {
        method: request.method,
        responseType: 'buffer',
        searchParams: compact(request.searchParams),
        ...(request.json !== undefined ? { json: request.json } : {}),
        ...(request.form !== undefined ? { form: request.form } : {}),
        ...(auth.type === 'basic' ? { username: auth.username, password: auth.password } : {}),
        ...(bearer ? { headers: { authorization: `Bearer ${bearer}` } } : {}),
        ...(request.signal ? { signal: request.signal } : {}),
      });
      this.reportSent(call, slot);
      const response: Response<Buffer> = await call;
      const called = {
        method: request.method,
        path: request.path,
        status: response.statusCode,
        ms: Date.now() - started,
      };
      this.logger.debug(called, 'acronis call');
      this.options.observer?.called(called);
      return {
        status: response.statusCode,
        headers: response.headers,
        body: response.body,
        ...(sentAt !== undefined ? { sentAt } : {}),
      };
    } catch (cause) {
      const ms = Date.now() - started;
      const status = cause instanceof TimeoutError ? 'timeout' : 'network';
      this.options.observer?.called({ method: request.method, path: request.path, status, ms });
      throw this.transportFailure(request, cause, ms);
    }
  }

  /** Tells the throttle when the request is written out: on a new connection that is after the connect (and TLS). */
  private reportSent(
    call: { on(name: 'request', listener: (request: ClientRequest) => void): unknown },
    slot: unknown,
  ): void {
    const throttle = this.options.throttle;
    if (slot === undefined || !throttle?.sent) return;
    call.on('request', (outgoing) => {
      if (outgoing.writableFinished) throttle.sent?.(slot);
      else outgoing.once('finish', () => throttle.sent?.(slot));
    });
  }

  private checked(request: ApiRequest, response: RawResponse, accept: readonly number[]): RawResponse {
    if ((response.status >= 200 && response.status < 300) || accept.includes(response.status)) return response;
    throw httpError(request, response);
  }

  private transportFailure(request: ApiRequest, cause: unknown, ms: number): AcronisApiError {
    const timeout = cause instanceof TimeoutError;
    const code = cause instanceof RequestError ? cause.code : undefined;
    const what = timeout
      ? `no answer within ${ms} ms`
      : `connection failed (${code ?? (cause as Error)?.message ?? 'unknown'})`;
    // The caller gets the error and says it (a step's failure, a command's one line): here only for debugging.
    this.logger.debug(
      { method: request.method, path: request.path, code, ms },
      'acronis call failed without an answer',
    );
    return new AcronisApiError(`${request.method} ${request.path}: ${what}`, {
      kind: timeout ? 'timeout' : 'network',
      method: request.method,
      path: request.path,
      code,
      cause,
    });
  }

  private invalidResponse(request: ApiRequest, status: number, why: string, cause: unknown): AcronisApiError {
    return new AcronisApiError(`${request.method} ${request.path} → ${status}: ${why}`, {
      kind: 'invalid-response',
      method: request.method,
      path: request.path,
      status,
      cause,
    });
  }
}

interface ErrorBody {
  error?:
    | {
        code?: string | number;
        domain?: string | null;
        message?: string;
        details?: { info?: string | null } | null;
        context?: Record<string, unknown>;
      }
    | string;
  error_description?: string;
}

/** Maps a non-2xx answer to AcronisApiError: errorScheme bodies (§9.1), IdP `{error, error_description}` bodies (§2.2), or none. */
function httpError(request: ApiRequest, response: RawResponse): AcronisApiError {
  let body: ErrorBody = {};
  try {
    body = JSON.parse(response.body.toString('utf8')) as ErrorBody;
  } catch {
    // Proxies and 5xx pages answer HTML or nothing; the status still says enough.
  }
  const scheme = typeof body.error === 'object' && body.error !== null ? body.error : undefined;
  const code = scheme?.code ?? (typeof body.error === 'string' ? body.error : response.status);
  const info = scheme?.details?.info ?? body.error_description ?? null;
  const message = scheme?.message ?? (typeof body.error === 'string' ? body.error : `HTTP ${response.status}`);
  const retryAfterMs =
    response.status === 429 || response.status === 503 ? parseRetryAfter(response.headers['retry-after']) : undefined;
  const codeText = code !== response.status ? ` (code ${code})` : '';
  const infoText = info && info !== message ? `: ${info}` : '';
  return new AcronisApiError(
    `${request.method} ${request.path} → ${response.status} ${message}${codeText}${infoText}`,
    {
      kind: 'http',
      method: request.method,
      path: request.path,
      status: response.status,
      code,
      domain: scheme?.domain ?? null,
      info,
      retryAfterMs,
      ...(response.sentAt !== undefined ? { sentAt: response.sentAt } : {}),
      context: scheme?.context ?? {},
    },
  );
}

function compact(params: ApiRequest['searchParams']): Record<string, string | number | boolean> | undefined {
  if (!params) return undefined;
  const out: Record<string, string | number | boolean> = {};
  for (const [k, v] of Object.entries(params)) if (v !== undefined) out[k] = v;
  return out;
}
