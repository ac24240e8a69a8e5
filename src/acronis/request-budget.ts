import type { RedisConnection } from '../redis/connection.js';
import type { RequestBudgetKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { randomUUID } from 'node:crypto';
import type { RequestThrottle } from './transport.js';
import { judge, rateAt, SPACE_OUT_MS, type EstimatorSettings, type RatePlan, type Verdict } from './rate-estimator.js';

/**
 * The Acronis request budget shared by every worker process on every host: one schedule in
 * Redis, on Redis' clock, from which each request reserves the next free send time in one
 * script call (GCRA, "virtual scheduling"), then waits for it. Grants are evenly spaced across
 * all processes at the rate the shared plan grants. A 429 is judged (rate-estimator.ts): noise
 * leaves the plan alone, a limit cuts the rate to what the API accepted for everyone and, when the
 * cut is deep, moves the schedule past the answer's Retry-After; the rate later probes back up
 * toward the ceiling (docs/architecture.md "The request budget").
 */

export interface RequestBudgetOptions {
  redis: RedisConnection;
  /** RedisKeys.requestBudget. */
  keys: RequestBudgetKeys;
  /** ACRONIS_RATE_LIMIT: requests per second across every process. Fractional values (0.5) mean one request per 1/perSecond s. */
  perSecond: number;
  /**
   * Share of `perSecond` left unused, so that requests whose way to the server differs by a
   * few ms still arrive at most `perSecond` in any second (BENCHMARKS.md "Onboarding at the
   * API's limit": 3 % let a loaded 2-core machine exceed the limit; 5 % did not).
   */
  margin?: number;
  /** ACRONIS_RATE_CEILING: the highest rate the budget climbs to (requests/s); default `perSecond`. */
  ceiling?: number;
  /** Hold after a limit is found before probing above it, and the longest hold (doubling after each probe that met it), ms. */
  holdMs?: { first: number; max: number };
  /** Share of the ceiling the rate climbs per second once past the limit last found. */
  fastClimb?: number;
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
  /** Slots this process reserves ahead, at most (default: see `RequestBudget.ahead`). */
  ahead?: number;
  logger?: Logger;
}

export const DEFAULT_MARGIN = 0.05;
/**
 * 15 s at a found limit before the first probe above it, at most 25 s after probes that met it:
 * few 429s spent on probing (one per probe), and a limit that rose is reached within 30 s.
 */
export const DEFAULT_HOLD_MS = { first: 15_000, max: 25_000 };
export const DEFAULT_FAST_CLIMB = 0.2;
export const DEFAULT_FLOOR = 0.1;
export const DEFAULT_MAX_PAUSE_MS = 60_000;
/** How long the schedule outlives its last reservation: long enough that a found limit is remembered between batches. */
const IDLE_EXPIRY_MS = 120_000;
/** How long after its slot a late request can still be made room for (see `sent`). */
const BUNCH_HORIZON_MS = 800;

/** What a caller asks of its slot. */
export interface SlotRequest {
  /** Runs once the slot is reserved, while it is still ahead (the job-lock check), so its round trip does not delay the send. */
  beforeWait?: () => Promise<unknown>;
  /** Callers of one process with a smaller rank are served first (steps left in the chain; 0 outside a step). */
  rank?: number;
}

interface Waiter {
  rank: number;
  seq: number;
  slot: SlotRequest;
  signal: AbortSignal | undefined;
  resolve(slotMicros: number): void;
  reject(reason: unknown): void;
  onAbort(): void;
  /** In line, holding a reserved slot (its `beforeWait`, then its timer), or done with it. */
  state: 'waiting' | 'holding' | 'done';
  timer?: NodeJS.Timeout;
  /** The slot it sleeps until, once its `beforeWait` is done. */
  held?: Held;
  settled?: boolean;
}

/** A request written out, for `sent`: its slot (µs, Redis' clock) and how long after it. */
interface Write {
  slot: number;
  lateMs: number;
  /** A slot was taken out of the schedule for it already. */
  compensated: boolean;
}

/** Where a write of this slot goes in `writes`, kept in slot order. */
function sortedIndex(writes: readonly Write[], slot: number): number {
  let at = writes.length;
  while (at > 0 && (writes[at - 1] as Write).slot > slot) at--;
  return at;
}

interface Held {
  /** The slot on this process's performance clock. */
  slot: number;
  slotMicros: number;
  generation: number;
}

export interface BudgetState {
  /** Requests per second the schedule grants now (below `ratePerSecond` after a limit). */
  ratePerSecond: number;
  pausedForMs: number;
  /** Pauses and cuts so far: a reservation made under an older generation was voided by a limit found. */
  generation: number;
  /** The API's limit as last found (requests in any second); 0: none found. */
  foundPerSecond: number;
}

/** What a 429 meant, once judged; `pauseMs` is the shared pause in force (0: only the refused request waits). */
export interface RefusalOutcome {
  kind: Verdict['kind'];
  why: string;
  pauseMs: number;
}

export class RequestBudget implements RequestThrottle {
  /** The rate granted when no 429 has cut it: perSecond less the margin. */
  readonly ratePerSecond: number;
  readonly settings: EstimatorSettings;
  readonly maxPauseMs: number;
  readonly maxLateMs: number;
  readonly keys: RequestBudgetKeys;
  /** Slots given up because the caller woke too late (for benchmarks and tests). */
  lateSlots = 0;
  /** Reserved slots nobody sent in (late, voided by a pause, abandoned), taken back from the recent grants. */
  slotsGivenBack = 0;
  /** Requests that reached the wire more than `maxLateMs` later than one with a later slot, each of which took a later slot out of the schedule. */
  lateSends = 0;
  private readonly redis: ScriptCommands & Pick<RedisConnection, 'multi' | 'zrem'>;
  private readonly logger: Logger;
  /** The newest generation any reply told this process about. */
  private knownGeneration = 0;
  /**
   * Slots this process reserves ahead of time, at most: enough to cover a Redis round trip at
   * the rate (5 % of a second's slots), few enough that a better-ranked caller arriving later is
   * served soon. One below 20/s: a process takes over only its own reserved slots, so a chain's
   * next step waits behind every slot the other processes hold, and at 10/s two processes holding
   * two each had the first customer's steps wait two or three slots (BENCHMARKS.md "First customer
   * at 10/s").
   */
  readonly ahead: number;
  private readonly waiting: Waiter[] = [];
  private seq = 0;
  /** Reservations sent and not answered yet. */
  private requested = 0;
  /** Waiters holding a reserved slot. */
  private holding = 0;
  /** Holders past their `beforeWait`, asleep until their slot: a better-ranked caller may take a slot over. */
  private readonly sleeping = new Set<Waiter>();
  /** This process's performance clock less Redis' clock (ms), from the promptest reservation answer so far. */
  private clockOffsetMs: number | undefined;
  /** The requests written in the last BUNCH_HORIZON_MS, by slot: what a late one is judged against. */
  private readonly writes: Write[] = [];

  constructor(opts: RequestBudgetOptions) {
    if (!(opts.perSecond > 0) || !Number.isFinite(opts.perSecond)) {
      throw new RangeError(`RequestBudget: perSecond must be a positive number, got ${opts.perSecond}`);
    }
    const margin = opts.margin ?? DEFAULT_MARGIN;
    if (!(margin >= 0 && margin < 1)) throw new RangeError(`RequestBudget: margin must be in [0, 1), got ${margin}`);
    this.ratePerSecond = opts.perSecond * (1 - margin);
    const ceiling = Math.max(opts.perSecond, opts.ceiling ?? opts.perSecond) * (1 - margin);
    this.settings = {
      start: this.ratePerSecond,
      ceiling,
      margin,
      floor: this.ratePerSecond * (opts.floor ?? DEFAULT_FLOOR),
      holdMs: opts.holdMs ?? DEFAULT_HOLD_MS,
      fastSlope: ceiling * (opts.fastClimb ?? DEFAULT_FAST_CLIMB),
    };
    this.maxPauseMs = opts.maxPauseMs ?? DEFAULT_MAX_PAUSE_MS;
    this.maxLateMs = opts.maxLateMs ?? margin * 500;
    this.ahead = opts.ahead ?? Math.min(16, Math.max(1, Math.ceil(ceiling * 0.05)));
    this.keys = opts.keys;
    this.redis = withScripts(opts.redis) as ScriptCommands & Pick<RedisConnection, 'multi' | 'zrem'>;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'request-budget' });
  }

  /**
   * Resolves at this caller's send time, with that time on Redis' clock (µs since the epoch);
   * rejects with the signal's reason when aborted first, or with Redis' error when it is
   * unreachable (the job retries later rather than send outside the budget).
   */
  acquire(signal?: AbortSignal, _request?: unknown, slot: SlotRequest = {}): Promise<number> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<number>((resolve, reject) => {
      const waiter: Waiter = {
        rank: slot.rank ?? 0,
        seq: this.seq++,
        slot,
        signal,
        resolve,
        reject,
        onAbort: () => this.abandon(waiter),
        state: 'waiting',
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      if (!this.takeOver(waiter)) this.line(waiter);
      this.pump();
    });
  }

  /**
   * The request sent on `slot` (what `acquire` resolved with) is on the wire. One that left more
   * than `maxLateMs` later, counted from its slot, than a request with a later slot — a new
   * connection, a TLS handshake, an event loop busy starting dozens of jobs, where the next
   * requests found a connection ready — reaches the API bunched with it, and the margin holds only
   * a few of those in a second: so the next free slot is taken out of the schedule for it.
   * Lateness every request shares (an API that closes every connection) bunches nothing and costs
   * nothing. Only the schedule moves; the grants a 429 is judged by keep the slot. Returns the
   * slots taken out.
   */
  sent(slot: unknown): number {
    if (typeof slot !== 'number' || this.clockOffsetMs === undefined) return 0;
    const now = performance.now();
    const write: Write = { slot, lateMs: now - (slot / 1000 + this.clockOffsetMs), compensated: false };
    // A slot taken out over 0.8 s after the late request's own slot would fall outside some second it arrived in.
    const horizon = now - BUNCH_HORIZON_MS - this.clockOffsetMs;
    while (this.writes.length > 0 && (this.writes[0] as Write).slot / 1000 < horizon) this.writes.shift();
    let late = 0;
    for (const other of this.writes) {
      const [first, second] = other.slot < slot ? [other, write] : [write, other];
      if (first.compensated || first.lateMs - second.lateMs <= this.maxLateMs) continue;
      first.compensated = true;
      late++;
    }
    this.writes.splice(sortedIndex(this.writes, slot), 0, write);
    if (late === 0) return 0;
    this.lateSends += late;
    this.reserve(late).catch((err: unknown) => {
      this.logger.debug({ err }, 'could not take slots out of the schedule for late sends');
    });
    return late;
  }

  /**
   * A 429 came back: judged with every process's recent grants and 429s. Noise changes nothing
   * shared (the refused request waits its own Retry-After); a limit cuts the shared rate and,
   * when the cut is deep, moves every process's schedule past `retryAfterMs` (capped at
   * `maxPauseMs`). `sentAtMicros` is the refused request's slot as `acquire` resolved it: what
   * the API had admitted is read in the second before it (docs/resilience.md). Returns what it
   * was and the shared pause now in force.
   */
  async refused(retryAfterMs?: number, sentAtMicros?: number): Promise<RefusalOutcome> {
    const { schedule, grants, refusals } = this.keys;
    const [nowText, grantTimes, refusalTimes, fields] = (await this.redis.requestBudgetRefusal(
      schedule,
      grants,
      refusals,
      IDLE_EXPIRY_MS,
      randomUUID(),
      sentAtMicros === undefined ? '' : sentAtMicros.toFixed(0),
    )) as [string, string[], string[], (string | null)[]];
    const now = Number(nowText);
    const retryAfter = retryAfterMs === undefined ? undefined : Math.min(Math.max(0, retryAfterMs), this.maxPauseMs);
    const plan = planOf(fields, this.settings, now);
    const verdict = judge(plan, this.settings, {
      now,
      grants: scoresOf(grantTimes),
      refusals: scoresOf(refusalTimes),
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
    });
    if (verdict.kind === 'noise') {
      if (verdict.spaceOut) await this.spaceOut();
      return { kind: 'noise', why: verdict.why, pauseMs: 0 };
    }
    const next = verdict.plan;
    const [written, pauseMs, generation] = (await this.redis.requestBudgetDecide(
      schedule,
      plan.epoch,
      next.rate.toFixed(6),
      next.climbFrom.toFixed(0),
      next.found.toFixed(6),
      next.probeTop.toFixed(6),
      next.probeSlope.toFixed(6),
      next.holdMs,
      next.settledAt.toFixed(0),
      Math.ceil(verdict.pauseMs),
      IDLE_EXPIRY_MS,
      this.keys.decisions,
      next.rate < rateAt(plan, this.settings, now) ? '1' : '0',
    )) as [number, number, number];
    this.learn(Number(generation));
    if (Number(written) === 1) {
      this.logger.warn(
        {
          why: verdict.why,
          acceptedPerSecond: verdict.acceptedPerSecond,
          ratePerSecond: +next.rate.toFixed(2),
          pauseMs: Number(pauseMs),
        },
        'acronis answered 429 at a limit: the shared rate is cut to what the API accepted',
      );
    }
    // Another process decided on the same burst first: its decision stands.
    return { kind: 'limit', why: verdict.why, pauseMs: Number(pauseMs) };
  }

  /**
   * Hears every process's decisions that void slots (a pause, a cut) as they are written, on
   * `subscriber` (a connection of its own: subscribing takes it over), rather than at this
   * process's next reservation. A process holds up to `ahead` slots reserved before the decision
   * and reserves no more until one is due, so without this it sent one of them into the API's
   * full window before it knew: one more 429 for every other process at each limit found
   * (docs/resilience.md). Resolves once subscribed; ioredis subscribes again after a reconnection.
   */
  async follow(subscriber: RedisConnection): Promise<void> {
    subscriber.on('message', (channel: string, message: string) => {
      if (channel === this.keys.decisions) this.learn(Number(message) || 0);
    });
    await subscriber.subscribe(this.keys.decisions);
  }

  /** A generation some reply or message told of: slots reserved under an older one are void. */
  private learn(generation: number): void {
    this.knownGeneration = Math.max(this.knownGeneration, generation);
  }

  /** Three 429s close together: every slot reserved so far is void, the next sends leave SPACE_OUT_MS apart. */
  private async spaceOut(): Promise<void> {
    const generation = await this.redis.requestBudgetSpace(
      this.keys.schedule,
      (SPACE_OUT_MS * 1000).toFixed(0),
      this.keys.decisions,
      IDLE_EXPIRY_MS,
    );
    this.learn(Number(generation));
  }

  /** The shared schedule as the last reservation or decision left it (for tests and diagnostics). */
  async state(): Promise<BudgetState> {
    // One transaction, so on a cluster TIME is read on the master that holds the schedule (its clock set paused_until).
    const replies = await this.redis
      .multi()
      .time()
      .hmget(
        this.keys.schedule,
        'rate',
        'climb_from',
        'found',
        'probe_top',
        'probe_slope',
        'hold_ms',
        'settled_at',
        'epoch',
        'generation',
        'paused_until',
      )
      .exec();
    const failed = (replies ?? []).find(([err]) => err)?.[0];
    if (failed || !replies) throw failed ?? new Error('Redis discarded the budget read');
    const [seconds, micros] = replies[0]![1] as [string, string];
    const fields = replies[1]![1] as (string | null)[];
    const now = Number(seconds) * 1e6 + Number(micros);
    const plan = planOf(fields.slice(0, 8), this.settings, now);
    return {
      ratePerSecond: rateAt(plan, this.settings, now),
      pausedForMs: Math.max(0, Math.ceil((Number(fields[9] ?? 0) - now) / 1000)),
      generation: Number(fields[8] ?? 0),
      foundPerSecond: plan.found,
    };
  }

  /** Reserves slots for the waiters in line, never more than `ahead` at a time (see `ahead`). */
  private pump(): void {
    while (this.requested < this.waiting.length && this.requested + this.holding < this.ahead) {
      this.requested++;
      void this.reserveForBest();
    }
  }

  /**
   * One script call reserves the next free send time; the best waiter in line at the answer
   * takes it, runs its `beforeWait` and sleeps until the slot.
   */
  private async reserveForBest(): Promise<void> {
    // The slot on this process's clock, counted from before the call: a reply that sat in a busy event loop counts as lateness.
    const asked = performance.now();
    let reply: [number, number, number];
    try {
      reply = await this.reserve();
    } catch (err) {
      // Redis is unreachable: fail the caller at the head (its job retries later) rather than send unbudgeted.
      this.requested--;
      this.settle(this.waiting.shift(), (w) => w.reject(err));
      return this.pump();
    }
    this.requested--;
    const [waitMicros, generation, nowMicros] = reply;
    this.observeClock(asked, performance.now(), nowMicros);
    const waiter = this.waiting.shift();
    if (!waiter) {
      this.giveBack(nowMicros + waitMicros);
      return this.pump();
    }
    await this.take(waiter, { slot: asked + waitMicros / 1000, slotMicros: nowMicros + waitMicros, generation });
  }

  /** The waiter holds the slot: its `beforeWait` runs, then it sleeps until the slot. */
  private async take(waiter: Waiter, held: Held): Promise<void> {
    this.hold(waiter);
    try {
      await waiter.slot.beforeWait?.();
    } catch (err) {
      this.release(waiter);
      this.giveBack(held.slotMicros);
      this.settle(waiter, (w) => w.reject(err));
      return this.pump();
    }
    if (waiter.state !== 'holding') return this.giveBack(held.slotMicros);
    waiter.held = held;
    this.sleeping.add(waiter);
    waiter.timer = setTimeout(() => this.slotDue(waiter, held), Math.max(0, held.slot - performance.now()));
  }

  /**
   * A caller that outranks one asleep on a reserved slot takes the earliest such slot; the one
   * it displaces goes back in line, keeping its place. Without this a chain's next step waits
   * behind the slots this process reserved for first steps, and with every process reserving
   * ahead a customer's six calls each wait several slots (the first customer of a 10/s run was
   * done after 5.9 s instead of about 3).
   */
  private takeOver(waiter: Waiter): boolean {
    let displaced: Waiter | undefined;
    for (const holder of this.sleeping) {
      if (holder.rank <= waiter.rank) continue;
      if (!displaced || (holder.held as Held).slot < (displaced.held as Held).slot) displaced = holder;
    }
    if (!displaced) return false;
    const held = displaced.held as Held;
    this.release(displaced);
    this.line(displaced);
    void this.take(waiter, held);
    return true;
  }

  private slotDue(waiter: Waiter, held: Held): void {
    this.release(waiter);
    // A limit found anywhere while the caller waited voided the slot; a caller woken well after its
    // slot would reach the API bunched with the next ones. Either goes back in line.
    const late = performance.now() - held.slot > this.maxLateMs;
    if (held.generation < this.knownGeneration || late) {
      if (late) this.lateSlots++;
      this.giveBack(held.slotMicros);
      this.line(waiter);
    } else {
      this.settle(waiter, (w) => w.resolve(held.slotMicros));
    }
    this.pump();
  }

  /** In line by rank, then by arrival; a caller put back keeps its place. */
  private line(waiter: Waiter): void {
    waiter.state = 'waiting';
    const at = this.waiting.findIndex((w) => w.rank > waiter.rank || (w.rank === waiter.rank && w.seq > waiter.seq));
    this.waiting.splice(at < 0 ? this.waiting.length : at, 0, waiter);
  }

  private hold(waiter: Waiter): void {
    waiter.state = 'holding';
    this.holding++;
  }

  private release(waiter: Waiter): void {
    if (waiter.state !== 'holding') return;
    clearTimeout(waiter.timer);
    this.sleeping.delete(waiter);
    waiter.held = undefined;
    waiter.state = 'done';
    this.holding--;
  }

  private abandon(waiter: Waiter): void {
    const at = this.waiting.indexOf(waiter);
    if (at >= 0) this.waiting.splice(at, 1);
    if (waiter.held) this.giveBack(waiter.held.slotMicros);
    this.release(waiter);
    this.settle(waiter, (w) => w.reject(w.signal?.reason));
    this.pump();
  }

  /**
   * A slot reserved and not sent in leaves the recent grants: a 429 is judged on what the API
   * accepted in its last second, and grants nobody sent would count as accepted. A loaded
   * machine gives up dozens of late slots a second across 4 processes, which made the budget
   * take a 50/s limit for 85/s and need three cuts to find it (docs/resilience.md).
   */
  private giveBack(slotMicros: number): void {
    this.slotsGivenBack++;
    // Not awaited: the caller goes back in line at once. The member is the send time as the reserve script wrote it.
    this.redis.zrem(this.keys.grants, slotMicros.toFixed(0)).catch((err: unknown) => {
      this.logger.debug({ err }, 'could not take a given-up slot back from the recent grants');
    });
  }

  private settle(waiter: Waiter | undefined, action: (waiter: Waiter) => void): void {
    if (!waiter || waiter.settled) return;
    waiter.settled = true;
    waiter.state = 'done';
    waiter.signal?.removeEventListener('abort', waiter.onAbort);
    action(waiter);
  }

  /**
   * Redis' clock as seen from here: its now lies between the call and the answer. The promptest
   * answer bounds the offset best; one that contradicts the bound kept means a clock was set.
   */
  private observeClock(asked: number, answered: number, redisNowMicros: number): void {
    const low = asked - redisNowMicros / 1000;
    const high = answered - redisNowMicros / 1000;
    const known = this.clockOffsetMs;
    if (known === undefined || low > known || high < known) this.clockOffsetMs = low;
  }

  /** One script call: [µs to wait, generation, Redis' now in µs]; `skip` > 0 takes that many slots out of the schedule unrecorded. */
  private async reserve(skip = 0): Promise<[number, number, number]> {
    const [waitMicros, generation, now] = (await this.redis.requestBudgetReserve(
      this.keys.schedule,
      this.keys.grants,
      this.settings.start.toFixed(6),
      this.settings.ceiling.toFixed(6),
      this.settings.fastSlope.toFixed(6),
      IDLE_EXPIRY_MS,
      this.settings.holdMs.first,
      skip,
    )) as [number, number, number];
    this.learn(Number(generation));
    return [Number(waitMicros), Number(generation), Number(now)];
  }
}

/** The plan from its hash fields (rate, climb_from, found, probe_top, probe_slope, hold_ms, settled_at, epoch); none yet: the configured rate. */
function planOf(fields: (string | null)[], settings: EstimatorSettings, now: number): RatePlan {
  const [rate, climbFrom, found, probeTop, probeSlope, holdMs, settledAt, epoch] = fields;
  if (rate == null || climbFrom == null) {
    return {
      rate: settings.start,
      climbFrom: now + settings.holdMs.first * 1000,
      found: 0,
      probeTop: 0,
      probeSlope: 0,
      holdMs: settings.holdMs.first,
      settledAt: 0,
      epoch: Number(epoch ?? 0),
    };
  }
  return {
    rate: Number(rate),
    climbFrom: Number(climbFrom),
    found: Number(found ?? 0),
    probeTop: Number(probeTop ?? 0),
    probeSlope: Number(probeSlope ?? 0),
    holdMs: Number(holdMs ?? settings.holdMs.first),
    settledAt: Number(settledAt ?? 0),
    epoch: Number(epoch ?? 0),
  };
}

/** ZRANGEBYSCORE … WITHSCORES: [member, score, …] → the scores. */
function scoresOf(reply: string[]): number[] {
  const scores: number[] = [];
  for (let i = 1; i < reply.length; i += 2) scores.push(Number(reply[i]));
  return scores;
}
