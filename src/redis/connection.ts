import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections come in two temperaments (docs/bullmq.md §1.10): workers wait out a
 * Redis restart (`maxRetriesPerRequest: null`), while producers and CLI commands fail fast
 * so a webhook answers 503 and a command says "Redis is down" instead of hanging.
 */
export type RedisRole = 'worker' | 'fail-fast';

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): Redis {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, lazyConnect: true };
  return new Redis(url, { ...options, ...extra });
}

export class RedisUnavailableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `Redis does not answer at ${redactUrl(url)} (${(cause as Error)?.message ?? cause}): start it (redis-server), or set REDIS_URL`,
      { cause },
    );
    this.name = 'RedisUnavailableError';
  }
}

/** Connects a lazy fail-fast client and checks it answers, so the first command does not fail obscurely. */
export async function connectOrExplain(redis: Redis, url: string): Promise<Redis> {
  // The refusal itself (ECONNREFUSED …) is the reason worth printing, not ioredis' "Connection is closed."
  let refusal: unknown;
  const remember = (err: unknown) => (refusal = err);
  redis.on('error', remember);
  try {
    if (redis.status === 'wait') await redis.connect();
    await redis.ping();
    return redis;
  } catch (cause) {
    redis.disconnect();
    throw new RedisUnavailableError(url, refusal ?? cause);
  } finally {
    redis.off('error', remember);
  }
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable REDIS_URL)';
  }
}
