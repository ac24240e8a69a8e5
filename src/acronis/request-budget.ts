import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RequestBudgetKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { RequestThrottle } from './transport.js';

/**
 * The Acronis request budget shared by every worker process on every host: together they send
 * at most `perSecond` requests in any second, and a 429 seen by one pauses all of them. A
 * sliding window of grants in Redis, judged by Redis' own clock, with grants spaced evenly
 * (docs/architecture.md "The request budget"; the margin's measurements are in BENCHMARKS.md).
 */

export interface RequestBudgetOptions {
  redis: Redis;
  /** RedisKeys.requestBudget. */
  keys: RequestBudgetKeys;
  /** ACRONIS_RATE_LIMIT: requests per second across every process. Fractional values (0.5) mean one request per 1/perSecond s. */
  perSecond: number;
  /**
   * Length of the sliding window that holds at most `maxPerWindow` grants. Default: one
   * period (1000 ms, or 1000/perSecond ms below 1/s) plus DEFAULT_WINDOW_MARGIN_MS.
   */
  windowMs?: number;
  /**
   * Least gap between two grants as a fraction of `window / maxPerWindow` (0 = none, 1 =
   * evenly spaced, the default). Half the gap let a busy 2-core machine show 52 requests
   * in a second at a limit of 50; even spacing showed 43 under the same load.
   */
  pacing?: number;
  /** Longest pause one `pause()` can set, default 60 s, so a wild Retry-After cannot stall the pipeline for hours. */
  maxPauseMs?: number;
  logger?: Logger;
}

/** Grant-to-arrival spread the default window absorbs (BENCHMARKS.md "Why the request budget has a margin"). */
export const DEFAULT_WINDOW_MARGIN_MS = 100;
export const DEFAULT_MAX_PAUSE_MS = 60_000;
export const DEFAULT_PACING = 1;
/** Upper bound of the random delay added to each sleep, so the heads of several processes do not all wake at the same µs. */
const WAKE_JITTER_MS = 5;

interface Waiter {
  resolve: () => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

export class RequestBudget implements RequestThrottle {
  /** Most grants inside one window: floor(perSecond), at least 1. */
  readonly maxPerWindow: number;
  readonly windowMs: number;
  readonly maxPauseMs: number;
  readonly keys: RequestBudgetKeys;
  private readonly redis: ScriptCommands & Pick<Redis, 'pttl'>;
  private readonly logger: Logger;
  /**
   * Callers of this process wait here in FIFO order and only the head talks to Redis, so
   * a process sends one attempt per free slot instead of every waiter polling, and its
   * callers are served in the order they asked.
   */
  private readonly waiters: Waiter[] = [];
  private pumping = false;
  private wakeEarly: (() => void) | undefined;
  private lastPauseLogged = 0;
  /** Least gap between two grants, as a fraction of window / maxPerWindow. */
  readonly pacing: number;

  constructor(opts: RequestBudgetOptions) {
    if (!(opts.perSecond > 0) || !Number.isFinite(opts.perSecond)) {
      throw new RangeError(`RequestBudget: perSecond must be a positive number, got ${opts.perSecond}`);
    }
    this.maxPerWindow = Math.max(1, Math.floor(opts.perSecond));
    // Below 1/s the one allowed request needs a longer period (0.5/s → one per 2 s); for 2.5/s two per second keeps every second at or under 2.5.
    const periodMs = Math.max(1000, (1000 * this.maxPerWindow) / opts.perSecond);
    this.windowMs = opts.windowMs ?? Math.ceil(periodMs) + DEFAULT_WINDOW_MARGIN_MS;
    if (!(this.windowMs > 0)) throw new RangeError(`RequestBudget: windowMs must be positive, got ${this.windowMs}`);
    this.maxPauseMs = opts.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    this.pacing = opts.pacing ?? DEFAULT_PACING;
    this.keys = opts.keys;
    this.redis = withScripts(opts.redis) as ScriptCommands & Pick<Redis, 'pttl'>;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'request-budget' });
  }

  /** Resolves once this caller may send one request; rejects with the signal's reason when aborted first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          if (this.waiters.length === 0) this.wakeEarly?.();
          reject(signal?.reason);
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      if (!this.pumping) void this.pump();
    });
  }

  /**
   * Pauses every process's `acquire` for `ms` (capped at `maxPauseMs`), e.g. after a 429
   * with Retry-After. A later pause already set is kept. Returns the pause now in force, in ms.
   */
  async pause(ms: number): Promise<number> {
    const requested = Number.isNaN(ms) ? 0 : Math.max(0, Math.ceil(ms));
    const capped = Math.min(requested, this.maxPauseMs);
    const effective = Number(await this.redis.requestBudgetPause(this.keys.paused, capped));
    this.logger.warn(
      { requestedMs: ms, effectiveMs: effective, capped: requested > this.maxPauseMs },
      'acronis requests paused for every worker',
    );
    return effective;
  }

  /** Time left of the shared pause, 0 when there is none. */
  async pausedForMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.keys.paused));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        let reply: [number, number, number];
        try {
          reply = (await this.redis.requestBudgetTake(
            this.keys.grants,
            this.keys.paused,
            this.windowMs * 1000,
            this.maxPerWindow,
            randomBytes(6).toString('hex'),
            this.pacing,
          )) as typeof reply;
        } catch (err) {
          // Redis is unreachable: fail the caller at the head (its job retries later) rather than send unbudgeted.
          this.settle((w) => w.reject(err));
          continue;
        }
        if (reply[0] === 1) {
          // A head that aborted while the script ran leaves its slot to the next caller.
          this.settle((w) => w.resolve());
          continue;
        }
        const waitMs = Number(reply[1]);
        if (Number(reply[2]) === 1 && Date.now() - this.lastPauseLogged > 1000) {
          this.lastPauseLogged = Date.now();
          this.logger.debug({ waitMs, waiting: this.waiters.length }, 'acronis requests are paused; waiting');
        }
        await this.sleep(waitMs + Math.random() * WAKE_JITTER_MS);
      }
    } finally {
      this.pumping = false;
    }
  }

  private settle(action: (waiter: Waiter) => void): void {
    const waiter = this.waiters.shift();
    if (!waiter) return;
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    action(waiter);
  }

  /** A sleep that ends early once every waiter has gone, so no timer outlives the callers (up to maxPauseMs). */
  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeEarly = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeEarly = done;
    });
  }
}
