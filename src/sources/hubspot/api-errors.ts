import { unreachable } from '../json-api.js';
import { SourceApiError } from '../kind.js';

/**
 * The one place HubSpot's answers become SourceApiError (docs/sources.md "HubSpot", API errors):
 * 429, 5xx, 477 (account migration), timeouts and resets are worth another try; 401, 403, 404
 * and other 4xx repeat their answer however often they are sent.
 */

export interface HubSpotAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** HubSpot's JSON error body; every field optional, as its error-handling page says. */
function errorBody(text: string): { message?: string; category?: string; policyName?: string } {
  try {
    const parsed = JSON.parse(text) as unknown;
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

/**
 * Seconds to wait: Retry-After when HubSpot sends one, else what is left of its rate window
 * (`X-HubSpot-RateLimit-Interval-Milliseconds`, sent with every limited answer).
 */
function retryAfterSec(headers: HubSpotAnswer['headers']): number | undefined {
  const retryAfter = Number(first(headers['retry-after']));
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter;
  const intervalMs = Number(first(headers['x-hubspot-ratelimit-interval-milliseconds']));
  return Number.isFinite(intervalMs) && intervalMs > 0 ? Math.ceil(intervalMs / 1000) : undefined;
}

function reasonFor(status: number, body: ReturnType<typeof errorBody>, tokenEnv: string): string {
  const said = body.message ? `: ${body.message.slice(0, 300)}` : '';
  if (status === 401)
    return `HubSpot refused the private app token in ${tokenEnv} (401); create a new token and set it${said}`;
  if (status === 403) {
    return `HubSpot says the private app lacks a scope (403); give it crm.objects.deals.read, crm.objects.companies.read/write, crm.objects.contacts.read, crm.objects.line_items.read, crm.objects.products.read${said}`;
  }
  if (status === 404) return `HubSpot has no such record (404): deleted or merged${said}`;
  if (status === 429) return `HubSpot's rate limit was reached (${body.policyName ?? '429'})${said}`;
  if (status === 477) return `the HubSpot account is being migrated (477)${said}`;
  if (status >= 500) return `HubSpot answered ${status}${said}`;
  return `HubSpot refused the request (${status}${body.category ? ` ${body.category}` : ''})${said}`;
}

export function classifyAnswer(
  source: string,
  endpoint: string,
  answer: HubSpotAnswer,
  tokenEnv: string,
): SourceApiError {
  const { status } = answer;
  const retryable = status === 429 || status === 477 || status >= 500;
  const wait = retryable ? retryAfterSec(answer.headers) : undefined;
  return new SourceApiError(
    source,
    endpoint,
    status,
    retryable,
    reasonFor(status, errorBody(answer.body), tokenEnv),
    wait,
  );
}

/** No answer at all: a timeout or a connection that failed. */
export function classifyFailure(source: string, endpoint: string, cause: unknown): SourceApiError {
  return unreachable(source, endpoint, 'HubSpot', cause);
}

/** A 2xx whose body is not what HubSpot documents: another try would read the same. */
export function unexpectedBody(source: string, endpoint: string, status: number, why: string): SourceApiError {
  return new SourceApiError(source, endpoint, status, false, `HubSpot's answer is not in the documented shape: ${why}`);
}
