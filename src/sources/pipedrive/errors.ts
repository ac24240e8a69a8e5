import { parseRetryAfter } from '../../acronis/errors.js';
import { SourceApiError } from '../kind.js';
import { headerValue, type VendorAnswer } from '../json-api.js';

/**
 * The one place Pipedrive's answers become SourceApiError. Its errors are
 * `{"success": false, "error": "…", "error_info": "…"}`; 429 (its rate limits) waits for
 * `Retry-After` or `x-ratelimit-reset`; 5xx is worth another try; 401, 403, 404 and other 4xx are not.
 */
function said(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; error_info?: unknown };
    const parts = [parsed.error, parsed.error_info].filter((p): p is string => typeof p === 'string' && p !== '');
    return parts.length > 0 ? `: ${parts.join(' — ').slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

function waitSeconds(headers: VendorAnswer['headers']): number | undefined {
  const retryAfterMs = parseRetryAfter(headerValue(headers['retry-after']));
  if (retryAfterMs !== undefined) return Math.ceil(retryAfterMs / 1000);
  const reset = Number(headerValue(headers['x-ratelimit-reset']));
  return Number.isFinite(reset) && reset >= 0 ? Math.ceil(reset) : undefined;
}

export function classifyPipedrive(
  source: string,
  endpoint: string,
  answer: VendorAnswer,
  tokenEnv: string,
): SourceApiError {
  const { status } = answer;
  const text = said(answer.body);
  if (status === 429) {
    return new SourceApiError(
      source,
      endpoint,
      status,
      true,
      `Pipedrive's rate limit was reached (429)${text}`,
      waitSeconds(answer.headers),
    );
  }
  if (status >= 500) return new SourceApiError(source, endpoint, status, true, `Pipedrive answered ${status}${text}`);
  if (status === 401) {
    return new SourceApiError(
      source,
      endpoint,
      status,
      false,
      `Pipedrive refused the API token in ${tokenEnv} (401): make a new one and set it${text}`,
    );
  }
  if (status === 403) {
    return new SourceApiError(
      source,
      endpoint,
      status,
      false,
      `Pipedrive says the token's user may not do this (403): give the user access to deals, organizations, persons and notes${text}`,
    );
  }
  if (status === 404)
    return new SourceApiError(
      source,
      endpoint,
      status,
      false,
      `Pipedrive has no such record (404): deleted or merged${text}`,
    );
  return new SourceApiError(source, endpoint, status, false, `Pipedrive refused the request (${status})${text}`);
}
