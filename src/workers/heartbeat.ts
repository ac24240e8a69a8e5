import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { RedisConnection } from '../redis/connection.js';
import { withRedisDeadline } from '../redis/deadline.js';

/**
 * Each worker process says it is alive every 15 s in one sorted set (member: host, pid and a
 * random part; score: when), so `GET /readyz` can tell "workers seen in the last minute" on any
 * host without CLIENT LIST, which some managed Redis services refuse.
 */
export const HEARTBEAT_EVERY_MS = 15_000;
export const WORKER_SEEN_WITHIN_MS = 60_000;
/** Members older than this are dropped by the next beat, so the set does not grow with restarts. */
const FORGET_AFTER_MS = 24 * 3600_000;

export class WorkerHeartbeat {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly opts: { redis: RedisConnection; key: string; everyMs?: number }) {}

  /** The first beat is awaited, so a worker counts as seen once it has started. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), this.opts.everyMs ?? HEARTBEAT_EVERY_MS);
    this.timer.unref();
  }

  /** Stops beating without telling Redis (it is away): the member ages out of the window. */
  forget(): void {
    clearInterval(this.timer);
  }

  /** A worker that stops cleanly is no longer seen at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    const { redis, key } = this.opts;
    await withRedisDeadline(redis, 'heartbeat', 1000, redis.zrem(key, this.id)).catch(() => undefined);
  }

  private async beat(): Promise<void> {
    const now = Date.now();
    await this.opts.redis
      .multi()
      .zadd(this.opts.key, now, this.id)
      .zremrangebyscore(this.opts.key, '-inf', now - FORGET_AFTER_MS)
      .exec();
  }
}

/** Worker processes that reported within `withinMs`. */
export function workersSeen(redis: RedisConnection, key: string, withinMs = WORKER_SEEN_WITHIN_MS): Promise<number> {
  return redis.zcount(key, Date.now() - withinMs, '+inf');
}
