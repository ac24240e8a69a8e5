import got, { RequestError, TimeoutError, type Got, type Method } from 'got';
import type { z } from 'zod';
import { SourceApiError, type KindContext } from './kind.js';

/**
 * One JSON call to a vendor's REST API, for the kinds that share this shape (Autotask, Pipedrive):
 * wait for the source's rate limit, send, turn a non-2xx answer into SourceApiError through the
 * vendor's own classifier, parse the body with zod. No retries here: the intake's jobs own them.
 */

export interface VendorAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface JsonCall {
  method: Method;
  /** The template, for errors and metrics: `GET /v1.0/Companies/{id}`; no ids, never a credential. */
  endpoint: string;
  /** Relative to the client's prefix URL. */
  path: string;
  searchParams?: Record<string, string>;
  json?: unknown;
}

export interface JsonApiOptions {
  vendor: string;
  prefixUrl: string;
  headers: Record<string, string>;
  timeoutMs: number;
  /** The vendor's reading of a non-2xx answer (retryable or not, and what a person can do). */
  classify(endpoint: string, answer: VendorAnswer): SourceApiError;
}

export function jsonApi(options: JsonApiOptions): Got {
  return got.extend({
    prefixUrl: options.prefixUrl.replace(/\/+$/, ''),
    headers: { accept: 'application/json', ...options.headers },
    retry: { limit: 0 },
    throwHttpErrors: false,
    followRedirect: false,
    responseType: 'text',
    timeout: { request: options.timeoutMs },
  });
}

export async function callJson<S extends z.ZodType>(
  http: Got,
  ctx: KindContext<unknown>,
  options: Pick<JsonApiOptions, 'vendor' | 'classify'>,
  call: JsonCall,
  schema: S,
): Promise<z.output<S>> {
  const endpoint = `${call.method} ${call.endpoint}`;
  await ctx.acquire();
  let response;
  try {
    response = await http(call.path.replace(/^\//, ''), {
      method: call.method,
      ...(call.searchParams ? { searchParams: call.searchParams } : {}),
      ...(call.json !== undefined ? { json: call.json } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } catch (cause) {
    throw unreachable(ctx.source, endpoint, options.vendor, cause);
  }
  const answer = { status: response.statusCode, headers: response.headers, body: response.body };
  if (answer.status < 200 || answer.status >= 300) throw options.classify(endpoint, answer);
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    throw new SourceApiError(
      ctx.source,
      endpoint,
      answer.status,
      false,
      `${options.vendor} answered with something that is not JSON`,
    );
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') || 'the body';
    const reason = `${options.vendor}'s answer is not in the documented shape at ${where}: ${issue?.message ?? ''}`;
    throw new SourceApiError(ctx.source, endpoint, answer.status, false, reason);
  }
  return parsed.data;
}

/** No answer at all: a timeout or a connection that failed, worth another try. Every vendor client's reading. */
export function unreachable(source: string, endpoint: string, vendor: string, cause: unknown): SourceApiError {
  if (cause instanceof SourceApiError) return cause;
  if (cause instanceof TimeoutError)
    return new SourceApiError(source, endpoint, undefined, true, `${vendor} did not answer in time`);
  const code = cause instanceof RequestError ? cause.code : undefined;
  return new SourceApiError(
    source,
    endpoint,
    undefined,
    true,
    `${vendor} could not be reached (${code ?? 'network error'})`,
  );
}

/** The first value of a header that may repeat. */
export function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
