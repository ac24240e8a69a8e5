/**
 * The one error type of every Acronis call, and the one place that decides whether an
 * attempt may be retried. Network failures, timeouts, 429 and 5xx are transient; any other
 * 4xx means the request itself is wrong (validation, conflict, rights) and repeating it can
 * only repeat the answer (docs/acronis-api.md §9.2, §9.3).
 */
export type AcronisErrorKind = 'http' | 'network' | 'timeout' | 'invalid-response';

export interface AcronisErrorDetails {
  kind: AcronisErrorKind;
  method: string;
  path: string;
  /** HTTP status; absent when no response arrived. */
  status?: number;
  /** Platform code (1000–1035, e.g. 1004 tenant name conflict) or the HTTP status; the IdP's `error` string for /idp/token. */
  code?: string | number;
  domain?: string | null;
  /** `error.details.info` of the errorScheme body, the most specific text the API gives. */
  info?: string | null;
  /** From `Retry-After` on a 429 (or 503). */
  retryAfterMs?: number;
  /** When the request was sent, on the request budget's clock (µs): a 429 is judged by it. */
  sentAt?: number;
  /** The errorScheme `context`, e.g. the offending ids. */
  context?: Record<string, unknown>;
  cause?: unknown;
}

export class AcronisApiError extends Error {
  readonly kind: AcronisErrorKind;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly code: string | number | undefined;
  readonly domain: string | null;
  readonly info: string | null;
  readonly retryAfterMs: number | undefined;
  readonly sentAt: number | undefined;
  readonly context: Record<string, unknown>;

  constructor(message: string, details: AcronisErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'AcronisApiError';
    this.kind = details.kind;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.code = details.code;
    this.domain = details.domain ?? null;
    this.info = details.info ?? null;
    this.retryAfterMs = details.retryAfterMs;
    this.sentAt = details.sentAt;
    this.context = details.context ?? {};
  }

  /** True when the same request may succeed later; see isRetryable. */
  get retryable(): boolean {
    return isRetryable(this);
  }

  /** Platform code as a number when it is one (1004, 1015…), for comparisons in callers. */
  get platformCode(): number | undefined {
    const n = typeof this.code === 'number' ? this.code : Number(this.code);
    return Number.isInteger(n) ? n : undefined;
  }

  toJSON() {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      method: this.method,
      path: this.path,
      status: this.status,
      code: this.code,
      domain: this.domain,
      info: this.info,
      retryAfterMs: this.retryAfterMs,
      retryable: this.retryable,
    };
  }
}

/** The single retry policy for Acronis errors: network, timeout, 429 and 5xx retry; everything else does not. */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof AcronisApiError)) return false;
  switch (err.kind) {
    case 'network':
    case 'timeout':
      return true;
    case 'invalid-response':
      // A 2xx we cannot read may have committed a change; a person has to look.
      return false;
    case 'http':
      return err.status === 429 || (err.status !== undefined && err.status >= 500);
  }
}

/** Errors of a request that never got to the API's logic, in words: nothing it asked for can have happened. */
const NEVER_CONNECTED: ReadonlyMap<string, string> = new Map([
  ['ECONNREFUSED', 'connection refused'],
  ['ENOTFOUND', 'no such host'],
  ['EAI_AGAIN', 'the host name could not be looked up'],
  ['EHOSTUNREACH', 'host unreachable'],
  ['ENETUNREACH', 'network unreachable'],
]);

/** Why no connection to the data centre was made ("connection refused"), or undefined when one was. */
export function connectionNeverMade(err: unknown): string | undefined {
  if (!(err instanceof AcronisApiError) || err.kind !== 'network' || typeof err.code !== 'string') return undefined;
  return NEVER_CONNECTED.get(err.code);
}

/**
 * True when the request was certainly not carried out: the access token for it could not be had
 * (it was never sent), a 429 (the API refused it before acting), or a connection never made. Any
 * other failure (a 5xx, a timeout, a reset) may follow a committed change (docs/acronis-api.md
 * §9.2, §9.3).
 */
export function certainlyNotApplied(err: unknown): boolean {
  if (!(err instanceof AcronisApiError)) return false;
  if (err.path === '/idp/token') return true;
  if (err.kind === 'http') return err.status === 429;
  return connectionNeverMade(err) !== undefined;
}

/**
 * True when the API certainly did not carry the request out, for an operator's one-off request:
 * {@link certainlyNotApplied}, or an answer refusing it (a 4xx). A 5xx, a timeout or a reset may
 * still follow a change made.
 */
export function certainlyNotCarriedOut(err: unknown): boolean {
  if (certainlyNotApplied(err)) return true;
  return err instanceof AcronisApiError && err.kind === 'http' && err.status !== undefined && err.status < 500;
}

/** `Retry-After` is seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, Math.round(seconds * 1000));
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
