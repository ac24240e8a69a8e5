/**
 * The platform's error body, `errorScheme` in the OAS (docs/acronis-api.md §9.1):
 * `{"error":{"code","domain":"PlatformAccountServer","message","details":{"info"},"context":{}}}`.
 * `code` is a platform code (1000–1035) or the HTTP status.
 */
export interface ErrorSchemeBody {
  error: {
    code: number | string;
    domain: string | null;
    message: string;
    details: { info: string | null; [extra: string]: unknown };
    context: Record<string, unknown>;
    data?: string[];
  };
}

export const ERROR_DOMAIN = 'PlatformAccountServer';

const STATUS_MESSAGES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusMessage(status: number): string {
  return STATUS_MESSAGES[status] ?? (status >= 500 ? 'Internal Server Error' : 'Error');
}

/** Thrown by handlers; the server's error handler turns it into an errorScheme reply. */
export class SimError extends Error {
  constructor(
    readonly status: number,
    readonly code: number | string,
    message: string,
    readonly info: string | null = message,
    readonly extra: {
      context?: Record<string, unknown>;
      details?: Record<string, unknown>;
      data?: string[];
      headers?: Record<string, string>;
    } = {},
  ) {
    super(message);
    this.name = 'SimError';
  }

  toBody(): ErrorSchemeBody {
    return {
      error: {
        code: this.code,
        domain: ERROR_DOMAIN,
        message: this.message,
        details: { info: this.info, ...this.extra.details },
        context: this.extra.context ?? {},
        ...(this.extra.data ? { data: this.extra.data } : {}),
      },
    };
  }
}

/** An error whose platform code is the HTTP status itself. */
export function httpError(status: number, info: string | null, extra: SimError['extra'] = {}): SimError {
  return new SimError(status, status, statusMessage(status), info, extra);
}

export const badRequest = (info: string, data?: string[]) => httpError(400, info, data ? { data } : {});
export const unauthorized = (info: string) => httpError(401, info);
export const forbidden = (info: string) => httpError(403, info);
export const notFound = (info: string) => httpError(404, info);

/** Platform codes of DOC/acct/error-codes (docs/acronis-api.md §9.1). */
export const PlatformCode = {
  internal: 1000,
  versionMismatch: 1001,
  accessDenied: 1002,
  parentDisabled: 1003,
  tenantNameConflict: 1004,
  tenantNotFound: 1005,
  deleteEnabled: 1006,
  infraConflict: 1015,
  offeringItemNotAvailable: 1021,
  offeringItemsDependency: 1023,
  businessRules: 1027,
  invalidLogin: 1033,
} as const;

export function versionMismatch(expected: number, got: number): SimError {
  return new SimError(
    409,
    PlatformCode.versionMismatch,
    'Version mismatch',
    `Version mismatch: current version is ${expected}, got ${got}`,
  );
}

/**
 * The IdP answers in OAuth style, `{"error","error_description"}` (docs/acronis-api.md §2.2),
 * not with errorScheme.
 */
export class TokenEndpointError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'TokenEndpointError';
  }

  toBody(): { error: string; error_description: string } {
    return { error: this.error, error_description: this.description };
  }
}
