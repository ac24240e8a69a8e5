import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Secrets that must never reach a log line, wherever they sit in a logged object
 * (request headers, API bodies, error details). pino's paths are case-sensitive and `*`
 * matches one level, so the spellings we meet and the nestings down to six levels are listed.
 */
const SECRET_KEYS = [
  'authorization',
  'Authorization',
  'client_secret',
  'clientSecret',
  'access_token',
  'accessToken',
  'id_token',
  'refresh_token',
  'password',
  'Password',
  'token',
  'registrationToken',
  'secret',
];
const MAX_DEPTH = 6;
export const REDACT_PATHS = SECRET_KEYS.flatMap((k) =>
  Array.from({ length: MAX_DEPTH }, (_, depth) => [...Array<string>(depth).fill('*'), k].join('.')),
);

export interface CreateLoggerOptions {
  level?: string;
  pretty?: boolean;
  name?: string;
  /** Where lines go; stdout when absent. */
  destination?: DestinationStream;
}

export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    ...(opts.name ? { name: opts.name } : {}),
  };
  if (opts.destination) return pino(options, opts.destination);
  if (opts.pretty) {
    return pino(
      options,
      pino.transport({ target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss' } }),
    );
  }
  return pino(options);
}

/** A logger that writes nowhere, for library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
