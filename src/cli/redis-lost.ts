import { AcronisApiError } from '../acronis/errors.js';
import { redactUrl } from '../redis/connection.js';
import { isRedisOutage } from '../redis/deadline.js';

/**
 * Redis went away under a command at a point that does not wait for it (a short command, or
 * `import` while it enqueues): one line naming REDIS_URL instead of ioredis' stack
 * (docs/resilience.md). What the command wrote before is kept, and every write it makes is
 * idempotent, so running it again once Redis answers is safe.
 */
export class RedisLostError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    // ioredis' words ("max retries per request", "Stream isn't writeable") would name its options, not the fix.
    super(`Redis at ${redactUrl(url)} went away while the command ran: run it again once Redis answers (REDIS_URL)`, {
      cause,
    });
    this.name = 'RedisLostError';
  }
}

/** `err` as RedisLostError when it is the command's Redis going away, else as it came. */
export function redisLostOr(err: unknown, url: string): unknown {
  // An API call refused by its own host may say ECONNREFUSED too: the client has classified those already.
  if (err instanceof AcronisApiError || err instanceof RedisLostError || !isRedisOutage(err)) return err;
  return new RedisLostError(url, err);
}
