import type { RedisConnection } from './connection.js';

/**
 * Keeps an HTTP handler from hanging on Redis. The producers' connection fails fast while it
 * is disconnected (src/redis.ts), but a command already sent to a Redis that stopped answering
 * (a frozen host, a half-open TCP link) waits for the socket to die, and BullMQ may wait for
 * its connection: every Redis step of a request gets a deadline, and missing it means 503.
 */
export class RedisOutageError extends Error {
  constructor(
    readonly operation: string,
    cause?: unknown,
  ) {
    super(`Redis did not answer (${operation})${cause instanceof Error ? `: ${cause.message}` : ''}`, { cause });
    this.name = 'RedisOutageError';
  }
}

/** Replies Redis gives while it cannot serve writes for a while: a retry later will do. */
const TRANSIENT_REPLY = /^(LOADING|READONLY|MASTERDOWN|BUSY|TRYAGAIN|CLUSTERDOWN|OOM|NOREPLICAS)\b/;
/**
 * ioredis' and BullMQ's words for a connection (or a cluster) that is not there: offline queue
 * disabled, retries spent, a refused or dropped socket, a node still loading its data, no Sentinel answering.
 */
export const CONNECTION_DOWN =
  /Connection is closed|Stream isn't writeable|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|Socket closed unexpectedly|Connection timeout|Cluster isn't ready|Failed to refresh slots cache|None of startup nodes is available|All nodes failed|ClusterAllFailedError|All sentinels are unreachable/i;

/**
 * Runs `operation` with a deadline. A missed deadline, a closed connection or a transient
 * Redis reply becomes RedisOutageError (the caller answers 503); anything else is rethrown
 * as it is. The operation is not cancelled by the deadline: the caller decides what its late
 * outcome means.
 */
export async function withRedisDeadline<T>(
  redis: RedisConnection,
  what: string,
  timeoutMs: number,
  operation: Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RedisOutageError(`${what}: no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([operation, deadline]);
  } catch (err) {
    if (err instanceof RedisOutageError) throw err;
    if (isRedisOutage(err, redis)) throw new RedisOutageError(what, err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The one test for "Redis is away, not wrong": our deadline error, a transient reply (LOADING …),
 * or ioredis'/BullMQ's words for a missing connection. With `redis`, a connection that is not
 * ready counts too.
 */
export function isRedisOutage(err: unknown, redis?: RedisConnection): boolean {
  if (err instanceof RedisOutageError) return true;
  if (redis !== undefined && redis.status !== 'ready') return true;
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  return TRANSIENT_REPLY.test(message) || CONNECTION_DOWN.test(message) || CONNECTION_DOWN.test(code);
}
