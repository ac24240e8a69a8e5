import { unreachable } from '../json-api.js';
import { SourceApiError } from '../kind.js';

/**
 * The one place Salesforce's answers become SourceApiError (docs/sources.md "Salesforce", API
 * errors). The REST API answers errors as a JSON array of `{message, errorCode}`; the token
 * endpoint as OAuth's `{error, error_description}`. 5xx, `REQUEST_LIMIT_EXCEEDED` (the org's
 * API request limit, 403) and timeouts are worth another try; the rest repeat their answer.
 */

export interface SalesforceAnswer {
  status: number;
  body: string;
}

/** The first `{message, errorCode}` of Salesforce's error array, or of an OAuth error. */
export function errorOf(body: string): { code?: string; message?: string } {
  try {
    const parsed = JSON.parse(body) as unknown;
    const first = (Array.isArray(parsed) ? parsed[0] : parsed) as Record<string, unknown> | undefined;
    if (!first || typeof first !== 'object') return {};
    const code = first.errorCode ?? first.error;
    const message = first.message ?? first.error_description;
    return {
      ...(typeof code === 'string' ? { code: code.slice(0, 100) } : {}),
      ...(typeof message === 'string' ? { message: message.slice(0, 300) } : {}),
    };
  } catch {
    return {};
  }
}

function reasonFor(status: number, error: ReturnType<typeof errorOf>, credentials: string): string {
  const said = `${error.code ? ` ${error.code}` : ''}${error.message ? `: ${error.message}` : ''}`;
  if (status === 401)
    return `Salesforce refused the access token (401${said}); check the app's client credentials in ${credentials}`;
  if (error.code === 'REQUEST_LIMIT_EXCEEDED') return `the org's API request limit is reached (403${said})`;
  if (status === 403)
    return `Salesforce refused the request (403${said}); give the app's run-as user access to the object and field`;
  if (status === 404) return `Salesforce has no such record (404${said}): deleted or merged`;
  if (status >= 500) return `Salesforce answered ${status}${said}`;
  return `Salesforce refused the request (${status}${said})`;
}

export function classifyAnswer(
  source: string,
  endpoint: string,
  answer: SalesforceAnswer,
  credentials: string,
): SourceApiError {
  const error = errorOf(answer.body);
  const retryable = answer.status >= 500 || error.code === 'REQUEST_LIMIT_EXCEEDED';
  return new SourceApiError(source, endpoint, answer.status, retryable, reasonFor(answer.status, error, credentials));
}

/** The token endpoint's refusal: `invalid_client`, `invalid_grant` (no run-as user), … never retried. */
export function tokenRefused(source: string, answer: SalesforceAnswer, credentials: string): SourceApiError {
  const error = errorOf(answer.body);
  const retryable = answer.status >= 500 || answer.status === 429;
  const said = `${error.code ?? answer.status}${error.message ? `: ${error.message}` : ''}`;
  const reason = retryable
    ? `Salesforce's token endpoint answered ${answer.status}`
    : `Salesforce refused the client credentials in ${credentials} (${said}); check the app's consumer key and secret and that the client credentials flow has a run-as user`;
  return new SourceApiError(source, 'POST /services/oauth2/token', answer.status, retryable, reason);
}

/** No answer at all: a timeout or a connection that failed. */
export function classifyFailure(source: string, endpoint: string, cause: unknown): SourceApiError {
  return unreachable(source, endpoint, 'Salesforce', cause);
}

export function unexpectedBody(source: string, endpoint: string, status: number, why: string): SourceApiError {
  return new SourceApiError(
    source,
    endpoint,
    status,
    false,
    `Salesforce's answer is not in the documented shape: ${why}`,
  );
}
