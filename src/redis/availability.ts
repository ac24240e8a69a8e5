import type { Logger } from '../logger.js';
import { redactUrl, type RedisConnection } from './connection.js';
import { isRedisOutage } from './deadline.js';

/**
 * Turns a Redis outage into two lines instead of one per retry (docs/resilience.md): ioredis
 * and BullMQ report every failed reconnect and every refused command, which for a 5 s outage
 * was about 80 error lines per process. One tracker per process watches every connection the
 * process opens to REDIS_URL; it says once that Redis went and once that it is back. Errors
 * that are not about the connection are still reported, each one.
 */
export interface AvailabilityReport {
  down(message: string): void;
  up(message: string): void;
  /** An error that is not an outage: a bug, a refused script, a reply worth reading. */
  error(message: string, err: Error): void;
}

export function loggerReport(logger: Logger): AvailabilityReport {
  return {
    down: (message) => logger.warn(message),
    up: (message) => logger.info(message),
    error: (message, err) => logger.error({ err: err.message }, message),
  };
}

/** How long after Redis is back a "Missing lock" is taken for a command sent again across the outage. */
const LOCK_ECHO_MS = 5_000;

export class RedisAvailability {
  private readonly watched = new Set<RedisConnection>();
  private downSince: number | undefined;
  /** When the last outage ended (ms); 0: none yet. */
  private backAt = 0;
  /** Before the first connection, "back" reads "connected". */
  private everUp = false;
  private muted = false;

  constructor(
    private readonly url: string,
    private readonly report: AvailabilityReport,
  ) {}

  get isDown(): boolean {
    return this.downSince !== undefined;
  }

  /** Follows `redis` until it is closed on purpose ('end'); also keeps ioredis from printing unhandled error events. */
  watch<R extends RedisConnection>(redis: R): R {
    this.watched.add(redis);
    redis.on('error', (err: Error) => {
      if (!isRedisOutage(err)) this.report.error('Redis error', err);
    });
    // 'reconnecting' comes only when ioredis will try again: a real outage, never a close on
    // purpose. Before the first connection the caller decides: wait (work) or fail (status).
    redis.on('reconnecting', () => {
      if (this.everUp) this.wentAway();
    });
    redis.on('ready', () => this.cameBack());
    redis.on('end', () => this.watched.delete(redis));
    return redis;
  }

  /**
   * For BullMQ Worker and Queue 'error' events: a connection error is the outage the watched
   * connections report once; anything else is reported as `what`. Returns true when absorbed.
   */
  observe(what: string, err: Error): boolean {
    if (isRedisOutage(err)) return true;
    if (this.lockLostAcrossOutage(err)) return true;
    if (!this.muted) this.report.error(what, err);
    return false;
  }

  /** Says Redis is away (at start, before any connection event). */
  wentAway(): void {
    if (this.muted || this.downSince !== undefined) return;
    this.downSince = Date.now();
    this.report.down(`Redis at ${redactUrl(this.url)} is unreachable; waiting for it (REDIS_URL)`);
  }

  /** A shutting-down process does not report the connections it closes. */
  mute(): void {
    this.muted = true;
  }

  /**
   * Resolves once `redis` is ready, however long Redis takes to appear (ioredis keeps
   * reconnecting on its own); rejects when `signal` aborts, at once.
   */
  async waitUntilReady(redis: RedisConnection, signal: AbortSignal): Promise<void> {
    if (redis.status === 'wait') {
      // The first refusal rejects connect(); ioredis goes on trying, and 'ready' tells when it got through.
      redis.connect().catch(() => this.wentAway());
    }
    if (redis.status === 'ready') return;
    // Through Sentinel, connect() does not fail: it goes on asking the Sentinels, and only their
    // refusals, as error events, say that Redis is away.
    const away = (err: Error) => {
      if (isRedisOutage(err)) this.wentAway();
    };
    redis.on('error', away);
    try {
      await untilReady(redis, signal);
    } finally {
      redis.off('error', away);
    }
  }

  /**
   * BullMQ's "Missing lock for job …" within seconds of Redis coming back is the outage too: a
   * command that finished a job (moveToFinished, moveToDelayed) reached Redis just before it went,
   * its answer did not, and ioredis sent it again on the new connection, where the job's lock was
   * already released by the first run. The job's move stands (the stalled-job check runs any step
   * whose move did not), and each step is idempotent (docs/resilience.md); reported, it was an
   * error line for an outage already told. At any other time it is reported.
   */
  private lockLostAcrossOutage(err: Error): boolean {
    if (!/^Missing lock for job /.test(err.message)) return false;
    return this.isDown || (this.backAt > 0 && Date.now() - this.backAt < LOCK_ECHO_MS);
  }

  private cameBack(): void {
    const first = !this.everUp;
    this.everUp = true;
    if (this.downSince === undefined || this.muted) return;
    for (const redis of this.watched) if (redis.status !== 'ready') return;
    const seconds = ((Date.now() - this.downSince) / 1000).toFixed(1);
    this.downSince = undefined;
    if (!first) this.backAt = Date.now();
    this.report.up(first ? `connected to Redis after ${seconds} s` : `Redis is back after ${seconds} s`);
  }
}

/** Not events.once: that one rejects on the 'error' events every refused reconnect emits. */
function untilReady(redis: RedisConnection, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const ready = () => {
      signal.removeEventListener('abort', aborted);
      resolve();
    };
    const aborted = () => {
      redis.off('ready', ready);
      reject(signal.reason as Error);
    };
    if (signal.aborted) return aborted();
    redis.once('ready', ready);
    signal.addEventListener('abort', aborted, { once: true });
  });
}
