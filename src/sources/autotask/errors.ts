import { parseRetryAfter } from '../../acronis/errors.js';
import { SourceApiError } from '../kind.js';
import { headerValue, type VendorAnswer } from '../json-api.js';

/**
 * The one place Autotask's answers become SourceApiError. Autotask's REST errors are
 * `{"errors": ["…"]}`; 429 (its request threshold) and 5xx are worth another try, 401/403 and other
 * 4xx repeat themselves.
 */
function said(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: unknown };
    const errors = Array.isArray(parsed.errors) ? parsed.errors.filter((e) => typeof e === 'string') : [];
    return errors.length > 0 ? `: ${errors.join('; ').slice(0, 300)}` : '';
  } catch {
    return '';
  }
}

export function classifyAutotask(source: string, endpoint: string, answer: VendorAnswer): SourceApiError {
  const { status } = answer;
  const text = said(answer.body);
  if (status === 429 || status === 503) {
    const waitMs = parseRetryAfter(headerValue(answer.headers['retry-after']));
    const reason = `Autotask's request threshold was reached (${status})${text}`;
    return new SourceApiError(
      source,
      endpoint,
      status,
      true,
      reason,
      waitMs === undefined ? undefined : Math.ceil(waitMs / 1000),
    );
  }
  if (status >= 500) return new SourceApiError(source, endpoint, status, true, `Autotask answered ${status}${text}`);
  if (status === 401 || status === 403) {
    const reason = `Autotask refused the API user (${status}): check its user name, secret and API tracking identifier (integration code), and its security level${text}`;
    return new SourceApiError(source, endpoint, status, false, reason);
  }
  if (status === 404)
    return new SourceApiError(source, endpoint, status, false, `Autotask has no such record or endpoint (404)${text}`);
  return new SourceApiError(source, endpoint, status, false, `Autotask refused the request (${status})${text}`);
}
