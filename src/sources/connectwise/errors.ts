import { HTTPError, RequestError, TimeoutError } from 'got';
import { parseRetryAfter } from '../../acronis/errors.js';
import { SourceApiError } from '../kind.js';

/**
 * The one place a ConnectWise call's failure is classified. 429 and 503 (with Retry-After),
 * other 5xx, timeouts and resets are worth another try; any other 4xx repeats itself. The error
 * body ConnectWise sends is `{code, message, errors[]}` (test/fixtures/sources/connectwise).
 */
export function toSourceApiError(source: string, endpoint: string, error: unknown): SourceApiError {
  if (error instanceof SourceApiError) return error;
  if (error instanceof HTTPError)
    return fromResponse(
      source,
      endpoint,
      error.response.statusCode,
      error.response.headers['retry-after'],
      error.response.body,
    );
  if (error instanceof TimeoutError)
    return new SourceApiError(source, endpoint, undefined, true, 'ConnectWise did not answer in time');
  if (error instanceof RequestError) {
    return new SourceApiError(source, endpoint, undefined, true, `could not reach ConnectWise (${error.code})`);
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new SourceApiError(source, endpoint, undefined, false, `unexpected failure: ${reason}`);
}

export function fromResponse(
  source: string,
  endpoint: string,
  status: number,
  retryAfter: string | string[] | undefined,
  body: unknown,
): SourceApiError {
  const said = messageOf(body);
  const retryAfterMs = parseRetryAfter(retryAfter);
  const retryAfterSec = retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000);
  if (status === 429 || status === 503) {
    return new SourceApiError(source, endpoint, status, true, `ConnectWise is busy (${status})${said}`, retryAfterSec);
  }
  if (status >= 500) return new SourceApiError(source, endpoint, status, true, `ConnectWise failed (${status})${said}`);
  if (status === 401 || status === 403) {
    return new SourceApiError(
      source,
      endpoint,
      status,
      false,
      `ConnectWise refused our API credentials (${status}): check the API member's keys, its security role and the clientId${said}`,
    );
  }
  if (status === 404)
    return new SourceApiError(source, endpoint, status, false, `ConnectWise has no such record (404)${said}`);
  return new SourceApiError(source, endpoint, status, false, `ConnectWise refused the request (${status})${said}`);
}

/** `: <message>` from a ConnectWise error body, bounded, or nothing. */
function messageOf(body: unknown): string {
  let parsed = body;
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      parsed = JSON.parse(body.toString());
    } catch {
      return '';
    }
  }
  if (parsed === null || typeof parsed !== 'object') return '';
  const { message, errors } = parsed as { message?: unknown; errors?: unknown };
  const details = Array.isArray(errors)
    ? errors.map((e) => (e && typeof e === 'object' && 'message' in e ? String(e.message) : '')).filter(Boolean)
    : [];
  const text = [typeof message === 'string' ? message : '', ...details].filter(Boolean).join('; ');
  return text === '' ? '' : `: ${text.slice(0, 300)}`;
}
