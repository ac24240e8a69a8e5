import type { Redis } from 'ioredis';
import type { RequestBudgetKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { RequestThrottle } from './transport.js';

/**
 * The Acronis request budget shared by every worker process on every host: one schedule in
 * Redis, on Redis' clock, from which each request reserves the next free send time in one
 * script call (GCRA, "virtual scheduling"), then waits for it. Grants are evenly spaced across
 * all processes; a 429 moves the schedule for everyone and cuts the shared rate, which climbs
 * back to the configured one (docs/architecture.md "The request budget").
 */

export interface RequestBudgetOptions {
  redis: Redis;
  /** RedisKeys.requestBudget. */
  keys: RequestBudgetKeys;
  /** ACRONIS_RATE_LIMIT: requests per second across every process. Fractional values (0.5) mean one request per 1/perSecond s. */
  perSecond: number;
  /**
   * Share of `perSecond` left unused, so that requests whose way to the server differs by a
   * few ms still arrive at most `perSecond` in any second (BENCHMARKS.md "Request budget").
   */
  margin?: number;
  /** Factor the shared rate is cut by on a 429 (at most once per `cutCooldownMs`). */
  cutFactor?: number;
  /** Share of `perSecond` the rate climbs back per second after a cut. */
  climbPerSecond?: number;
  /** Lowest rate a cut goes to, as a share of `perSecond`. */
  floor?: number;
  /** Longest pause one `pause()` can set, default 60 s, so a wild Retry-After cannot stall the pipeline for hours. */
  maxPauseMs?: number;
  /**
   * A caller whose timer fires later than this after its slot (a busy event loop) gives the
   * slot up and reserves again, so lateness cannot bunch requests. Default: half the margin's
   * slack, margin × 500 ms.
   */
  maxLateMs?: number;
  logger?: Logger;
}

export const DEFAULT_MARGIN = 0.03;
export const DEFAULT_CUT_FACTOR = 0.75;
export const DEFAULT_CLIMB_PER_SECOND = 0.02;
export const DEFAULT_FLOOR = 0.1;
export const DEFAULT_MAX_PAUSE_MS = 60_000;
/** 429s answered to requests already on their way belong to the same cut. */
const CUT_COOLDOWN_MS = 2_000;
/** How long the schedule outlives its last reservation: long enough for a cut rate to climb back. */
const IDLE_EXPIRY_MS = 120_000;

export interface BudgetState {
  /** Requests per second the schedule grants now (below `ratePerSecond` after a 429). */
  ratePerSecond: number;
  pausedForMs: number;
  /** Pauses so far: a reservation made under an older generation was voided by a 429. */
  generation: number;
}

export class RequestBudget implements RequestThrottle {
  /** The rate granted when no 429 has cut it: perSecond less the margin. */
  readonly ratePerSecond: number;
  readonly maxPauseMs: number;
  readonly maxLateMs: number;
  readonly keys: RequestBudgetKeys;
  /** Slots given up because the caller woke too late (for benchmarks and tests). */
  lateSlots = 0;
  private readonly climb: number;
  private readonly cutFactor: number;
  private readonly floor: number;
  private readonly redis: ScriptCommands & Pick<Redis, 'hmget' | 'time'>;
  private readonly logger: Logger;
  /** The newest generation any reply told this process about. */
  private knownGeneration = 0;

  constructor(opts: RequestBudgetOptions) {
    if (!(opts.perSecond > 0) || !Number.isFinite(opts.perSecond)) {
      throw new RangeError(`RequestBudget: perSecond must be a positive number, got ${opts.perSecond}`);
    }
    const margin = opts.margin ?? DEFAULT_MARGIN;
    if (!(margin >= 0 && margin < 1)) throw new RangeError(`RequestBudget: margin must be in [0, 1), got ${margin}`);
    this.ratePerSecond = opts.perSecond * (1 - margin);
    this.climb = this.ratePerSecond * (opts.climbPerSecond ?? DEFAULT_CLIMB_PER_SECOND);
    this.cutFactor = opts.cutFactor ?? DEFAULT_CUT_FACTOR;
    this.floor = this.ratePerSecond * (opts.floor ?? DEFAULT_FLOOR);
    this.maxPauseMs = opts.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    this.maxLateMs = opts.maxLateMs ?? margin * 500;
    this.keys = opts.keys;
    this.redis = withScripts(opts.redis) as ScriptCommands & Pick<Redis, 'hmget' | 'time'>;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'request-budget' });
  }

  /**
   * Resolves at this caller's send time, with that time on Redis' clock (µs since the epoch);
   * rejects with the signal's reason when aborted first, or with Redis' error when it is
   * unreachable (the job retries later rather than send outside the budget). `beforeWait` runs
   * after each reservation, while the slot is still ahead (the job-lock check), so its own
   * round trip does not delay the send.
   */
  async acquire(signal?: AbortSignal, _request?: unknown, beforeWait?: () => Promise<unknown>): Promise<number> {
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      // The slot on this process's clock, counted from before the call: a reply that waited in a busy event loop counts as lateness.
      const asked = performance.now();
      const [waitMicros, generation, nowMicros] = await this.reserve();
      const slot = asked + waitMicros / 1000;
      await beforeWait?.();
      await abortableSleep(slot - performance.now(), signal);
      // A 429 seen anywhere while this caller waited voided its slot: reserve again after the pause.
      if (generation < this.knownGeneration) continue;
      // A request sent well after its slot would reach the API bunched with the next ones: give the slot up.
      if (performance.now() - slot > this.maxLateMs) {
        this.lateSlots++;
        continue;
      }
      return nowMicros + waitMicros;
    }
  }

  /**
   * Moves every process's schedule `ms` (capped at `maxPauseMs`) ahead, e.g. after a 429 with
   * Retry-After, and cuts the shared rate. A later pause already set is kept. Returns the pause
   * now in force, in ms.
   */
  async pause(ms: number): Promise<number> {
    const requested = Number.isNaN(ms) ? 0 : Math.max(0, Math.ceil(ms));
    const capped = Math.min(requested, this.maxPauseMs);
    const [effective, generation, rate] = (await this.redis.requestBudgetPause(
      this.keys.schedule,
      capped,
      this.cutFactor,
      this.floor,
      CUT_COOLDOWN_MS,
      this.ratePerSecond,
      IDLE_EXPIRY_MS,
    )) as [number, number, string];
    this.knownGeneration = Math.max(this.knownGeneration, Number(generation));
    this.logger.warn(
      { requestedMs: ms, effectiveMs: Number(effective), ratePerSecond: Number(rate) },
      'acronis requests paused for every worker; the shared rate is cut and climbs back',
    );
    return Number(effective);
  }

  /** The shared schedule as it stands (for status output and tests). */
  async state(): Promise<BudgetState> {
    const [[seconds, micros], [rate, rateAt, generation, pausedUntil]] = await Promise.all([
      this.redis.time(),
      this.redis.hmget(this.keys.schedule, 'rate', 'rate_at', 'generation', 'paused_until'),
    ]);
    const now = Number(seconds) * 1e6 + Number(micros);
    const stored = rate === null ? this.ratePerSecond : Math.min(this.ratePerSecond, Number(rate));
    const climbed = stored + (this.climb * Math.max(0, now - Number(rateAt ?? now))) / 1e6;
    return {
      ratePerSecond: Math.min(this.ratePerSecond, climbed),
      pausedForMs: Math.max(0, Math.ceil((Number(pausedUntil ?? 0) - now) / 1000)),
      generation: Number(generation ?? 0),
    };
  }

  /** One script call: [µs to wait, generation, Redis' now in µs]. */
  private async reserve(): Promise<[number, number, number]> {
    const [waitMicros, generation, now] = (await this.redis.requestBudgetReserve(
      this.keys.schedule,
      this.ratePerSecond,
      this.climb,
      IDLE_EXPIRY_MS,
    )) as [number, number, number];
    this.knownGeneration = Math.max(this.knownGeneration, Number(generation));
    return [Number(waitMicros), Number(generation), Number(now)];
  }
}

/** A timer that ends early with the signal's reason, leaving nothing behind. */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 && !signal?.aborted) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
