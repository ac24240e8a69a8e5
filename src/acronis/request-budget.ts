import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defineScripts, type ScriptCommands as ScriptCommandsOf } from '../redis-scripts.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { RequestThrottle } from './transport.js';

/**
 * The Acronis request budget shared by every worker process on every host: all of them
 * together send at most `perSecond` API requests in any second, and a 429 seen by one of
 * them pauses all of them.
 *
 * Redis layout under the caller's `key` (e.g. `${QUEUE_PREFIX}:acronis:budget`):
 * - `<key>`         sorted set, one member per granted request (`<redis µs>:<random>`),
 *                   score = grant time in Redis µs. Trimmed to the window on every call
 *                   and PEXPIREd to the window, so it never holds more than one window's
 *                   grants and vanishes when nobody sends.
 * - `<key>:paused`  "paused until" (Redis epoch ms), PXAT that same instant, so Redis
 *                   drops it when the pause ends and PTTL is the time left.
 *
 * Every decision uses `redis.call('TIME')`, never a host clock: workers on hosts whose
 * clocks disagree still share one timeline.
 *
 * Why the window is longer than a second: the API (and the simulator's
 * `maxRequestsPerSecond`) counts *arrivals* in any (t-1000 ms, t]. Between our grant and
 * the request's arrival lie the Redis reply, got's request setup, event-loop delays in a
 * busy worker and the server's own header parsing; that delay differs per request by a few
 * ms, and by tens of ms when a worker's event loop stalls (GC, a burst of responses). A
 * window of exactly 1000 ms of grant time is then seen as more than N at the server. It is
 * worse than N+1 because waiters all wake when the oldest grant leaves the window, so grants
 * come in bursts one window apart: with a 1000 ms window and 10/s the simulator measured
 * 13–16 in a second from grant-to-arrival delays of only 0–20 ms. The margin (default
 * 100 ms, several times that spread) absorbs it at the price of ~9 % of the nominal rate.
 * Grants are also paced `window / limit` apart, so there are no bursts to squeeze: a
 * server (or simulator) that stalls for a moment and then takes a backlog at once would
 * otherwise count a whole window's burst plus the next in one second — seen as 57 at a
 * limit of 50 with 350 customers on a 2-core machine that was also running the tests.
 */

export interface RequestBudgetOptions {
  redis: Redis;
  /** Redis key base, e.g. `${QUEUE_PREFIX}:acronis:budget`. */
  key: string;
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

/** Grant-to-arrival spread the default window absorbs; see the module comment. */
export const DEFAULT_WINDOW_MARGIN_MS = 100;
export const DEFAULT_MAX_PAUSE_MS = 60_000;
export const DEFAULT_PACING = 1;
/** Upper bound of the random delay added to each sleep, so the heads of several processes do not all wake at the same µs. */
const WAKE_JITTER_MS = 5;

/**
 * One round trip per attempt.
 * KEYS: window zset, pause key. ARGV: window µs, max grants per window, member suffix, pacing fraction.
 * Returns {1, 0, 0} when a slot was taken, else {0, waitMs, 1 if paused else 0}.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
-- Compared with TIME rather than read as PTTL, so "paused until" and a grant's score are on one clock.
local pausedUntil = tonumber(redis.call('GET', KEYS[2]) or '0') * 1000
if pausedUntil > now then return {0, math.ceil((pausedUntil - now) / 1000), 1} end
local count = redis.call('ZCARD', KEYS[1])
-- Grants are also spaced evenly (window / limit apart): a burst of a whole window's grants
-- at once would reach the server squeezed together by any delay on the way.
local spacing = window / limit * tonumber(ARGV[4])
if count > 0 then
  local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  local since = now - tonumber(newest[2])
  if since < spacing and count < limit then return {0, math.max(1, math.ceil((spacing - since) / 1000)), 0} end
end
if count < limit then
  -- Lua 5.1 prints a 16-digit number in exponent form, so the member is built from TIME's own digits.
  redis.call('ZADD', KEYS[1], now, string.format('%s%06d:%s', t[1], tonumber(t[2]), ARGV[3]))
  redis.call('PEXPIRE', KEYS[1], math.ceil(window / 1000))
  return {1, 0, 0}
end
-- The grant whose expiry brings the count below the limit (index 0 unless processes disagree on the limit).
local blocking = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
local waitMicros = tonumber(blocking[2]) + window - now
return {0, math.max(1, math.ceil(waitMicros / 1000)), 0}
`;

/**
 * KEYS: pause key. ARGV: pause ms (already capped).
 * Never shortens a later pause; returns the remaining pause in ms after the call.
 */
const PAUSE = `
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
local remaining = math.max(0, tonumber(redis.call('GET', KEYS[1]) or '0') - nowMs)
if ms <= remaining then return remaining end
-- PXAT at the stored instant, so the key vanishes exactly when TAKE stops treating it as a pause.
redis.call('SET', KEYS[1], string.format('%d', nowMs + ms), 'PXAT', string.format('%d', nowMs + ms))
return ms
`;

const SCRIPTS = {
  requestBudgetTake: { numberOfKeys: 2, lua: TAKE },
  requestBudgetPause: { numberOfKeys: 1, lua: PAUSE },
} as const;
type ScriptCommands = ScriptCommandsOf<typeof SCRIPTS>;
const withScripts = (redis: Redis): ScriptCommands => defineScripts(redis, SCRIPTS);

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
  readonly key: string;
  readonly pauseKey: string;
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
    this.key = opts.key;
    this.pauseKey = `${opts.key}:paused`;
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
    const effective = Number(await this.redis.requestBudgetPause(this.pauseKey, capped));
    this.logger.warn(
      { requestedMs: ms, effectiveMs: effective, capped: requested > this.maxPauseMs },
      'acronis requests paused for every worker',
    );
    return effective;
  }

  /** Time left of the shared pause, 0 when there is none. */
  async pausedForMs(): Promise<number> {
    return Math.max(0, await this.redis.pttl(this.pauseKey));
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      while (this.waiters.length > 0) {
        let reply: [number, number, number];
        try {
          reply = (await this.redis.requestBudgetTake(
            this.key,
            this.pauseKey,
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
