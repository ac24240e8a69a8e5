import type { RedisConnection } from '../redis/connection.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import type { MetricsKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import { endpointName } from './endpoint-name.js';
import type { CallObserver } from './transport.js';
import { isRedisOutage } from '../redis/deadline.js';

/**
 * The install's Acronis API counters, kept in Redis because the calls are made by every `work`
 * process while `/metrics` is answered by `serve` (docs/architecture.md "Metrics"). Each process
 * adds up its calls in memory and writes the sums once a second (one pipeline of HINCRBY), so
 * metrics cost no Redis round trip per request; a process that dies loses at most that second.
 */

/** Upper bounds of the latency histogram's buckets, in seconds (+Inf follows). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] as const;

// Fields of the counters hash; a tab appears in no method, path template or status.
const SEP = '\t';
/**
 * With several partners (docs/partners.md) each lane's client counts under its partner's name:
 * the field, a tab, `@` and the name (a partner name has no `@`, no endpoint or status starts with one).
 */
const PARTNER_MARK = '@';
const labelled = (field: string, partner: string | undefined) =>
  partner === undefined ? field : `${field}${SEP}${PARTNER_MARK}${partner}`;
const FIELD = {
  calls: (endpoint: string, status: string) => `calls${SEP}${endpoint}${SEP}${status}`,
  /** Calls of the endpoint that took at most LATENCY_BUCKETS[i] (and more than the bucket before); i = length for +Inf. */
  bucket: (endpoint: string, i: number) => `bucket${SEP}${endpoint}${SEP}${i}`,
  seconds: (endpoint: string) => `seconds${SEP}${endpoint}`,
  tokenIssues: 'token_issues',
  rateLimited: 'rate_limited',
  grants: 'budget_grants',
  lateSends: 'budget_late_sends',
  pausedSeconds: 'paused_seconds',
} as const;

/** The request budget as the grant counter wraps it (RequestBudget). */
interface CountedBudget<A extends unknown[]> {
  acquire(...args: A): Promise<unknown>;
  /** How many late requests the write made room for (RequestBudget.sent). */
  sent?(slot: unknown): number;
}

/** A partner's share of the counts (CallMetrics.forPartner). */
export interface PartnerCallMetrics extends CallObserver {
  countingGrants<A extends unknown[]>(budget: CountedBudget<A>): CountedBudget<A>;
}

export interface CallMetricsOptions {
  redis: RedisConnection;
  keys: MetricsKeys;
  flushEveryMs?: number;
  logger?: Logger;
}

export class CallMetrics implements CallObserver {
  private counts = new Map<string, number>();
  private sums = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private readonly redis: RedisConnection & ScriptCommands;
  private readonly logger: Logger;

  constructor(private readonly opts: CallMetricsOptions) {
    this.redis = withScripts(opts.redis);
    this.logger = opts.logger ?? silentLogger;
  }

  called(call: Parameters<CallObserver['called']>[0]): void {
    this.observe(call, undefined);
  }

  /**
   * The request budget wrapped so that each slot it grants is counted. Every argument goes
   * through as it came: the budget's slot request (rank, the lock check) rides on the third.
   */
  countingGrants<A extends unknown[]>(budget: CountedBudget<A>): CountedBudget<A> {
    return this.grantsOf(budget, undefined);
  }

  /** The same counts, labelled with a partner's name: the observer and grant counter of its lane's client. */
  forPartner(partner: string): PartnerCallMetrics {
    return {
      called: (call) => this.observe(call, partner),
      countingGrants: (budget) => this.grantsOf(budget, partner),
    };
  }

  private observe(call: Parameters<CallObserver['called']>[0], partner: string | undefined): void {
    const endpoint = endpointName(call.method, call.path);
    const seconds = call.ms / 1000;
    const bucket = LATENCY_BUCKETS.findIndex((le) => seconds <= le);
    this.count(labelled(FIELD.calls(endpoint, String(call.status)), partner));
    this.count(labelled(FIELD.bucket(endpoint, bucket < 0 ? LATENCY_BUCKETS.length : bucket), partner));
    this.add(this.sums, labelled(FIELD.seconds(endpoint), partner), seconds);
    if (call.status === 429) this.count(labelled(FIELD.rateLimited, partner));
    const ok = typeof call.status === 'number' && call.status >= 200 && call.status < 300;
    if (ok && endpoint === 'POST /idp/token') this.count(labelled(FIELD.tokenIssues, partner));
  }

  private grantsOf<A extends unknown[]>(budget: CountedBudget<A>, partner: string | undefined): CountedBudget<A> {
    return {
      // What the budget resolves with (the slot's time) goes back to the transport as it came.
      acquire: async (...args: A) => {
        const slot = await budget.acquire(...args);
        this.count(labelled(FIELD.grants, partner));
        return slot;
      },
      sent: (slot) => {
        const late = budget.sent?.(slot) ?? 0;
        if (late > 0) this.add(this.counts, labelled(FIELD.lateSends, partner), late);
        return late;
      },
    };
  }

  /** A 429 paused every worker for `pauseMs` (the pause in force): counted at once, once per overlap. Never throws. */
  async paused(pauseMs: number): Promise<void> {
    const { counters, pausedUntil } = this.opts.keys;
    const ms = Math.max(0, Math.round(pauseMs));
    try {
      await this.redis.metricsAddPause(counters, pausedUntil, ms, FIELD.pausedSeconds);
    } catch (err) {
      this.logger[quietLevel(err)]({ err: (err as Error).message }, 'time paused not counted');
    }
  }

  /** Writes what was counted since the last flush; on failure the counts wait for the next one. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.counts.size === 0 && this.sums.size === 0) return;
    const [counts, sums] = [this.counts, this.sums];
    [this.counts, this.sums] = [new Map(), new Map()];
    const pipeline = this.redis.pipeline();
    for (const [field, n] of counts) pipeline.hincrby(this.opts.keys.counters, field, n);
    for (const [field, n] of sums) pipeline.hincrbyfloat(this.opts.keys.counters, field, n);
    try {
      const replies = (await pipeline.exec()) ?? [];
      const failed = replies.find(([err]) => err);
      if (failed) throw failed[0];
    } catch (err) {
      // HINCRBY is not idempotent: a partly applied pipeline may count twice on the retry, which
      // a metric tolerates better than losing a minute of calls to a Redis restart.
      for (const [field, n] of counts) this.add(this.counts, field, n);
      for (const [field, n] of sums) this.add(this.sums, field, n);
      this.logger[quietLevel(err)]({ err: (err as Error).message }, 'metrics not written to Redis; trying again');
      this.schedule();
    }
  }

  /** Stops the timer and writes what is left. */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private count(field: string): void {
    this.add(this.counts, field, 1);
  }

  private add(map: Map<string, number>, field: string, n: number): void {
    map.set(field, (map.get(field) ?? 0) + n);
    this.schedule();
  }

  private schedule(): void {
    this.timer ??= setTimeout(() => void this.flush(), this.opts.flushEveryMs ?? 1000).unref();
  }
}

export interface EndpointLatency {
  endpoint: string;
  /** The partner whose client made the calls (an install with several); absent: unlabelled. */
  partner?: string;
  /** Calls per bucket (not cumulative), one per LATENCY_BUCKETS entry and one for +Inf. */
  buckets: number[];
  sumSeconds: number;
}

/** The counts one client (partner) can make on its own. */
export interface ClientCounts {
  tokenIssues: number;
  rateLimited: number;
  grants: number;
  /** Requests that reached the wire late, each taking a later slot out of the schedule. */
  lateSends: number;
}

export interface CallMetricsSnapshot extends ClientCounts {
  calls: { endpoint: string; status: string; count: number; partner?: string }[];
  latency: EndpointLatency[];
  /** `tokenIssues`, `rateLimited`, `grants` and `lateSends` above are those counted without a partner; these with one. */
  byPartner: Record<string, ClientCounts>;
  pausedSeconds: number;
}

const CLIENT_COUNT_FIELDS: [keyof ClientCounts, string][] = [
  ['tokenIssues', FIELD.tokenIssues],
  ['rateLimited', FIELD.rateLimited],
  ['grants', FIELD.grants],
  ['lateSends', FIELD.lateSends],
];

/** What every process has written so far, for a scrape. */
export async function readCallMetrics(redis: RedisConnection, keys: MetricsKeys): Promise<CallMetricsSnapshot> {
  const raw = await redis.hgetall(keys.counters);
  const snapshot: CallMetricsSnapshot = {
    calls: [],
    latency: [],
    tokenIssues: 0,
    rateLimited: 0,
    grants: 0,
    lateSends: 0,
    byPartner: {},
    pausedSeconds: Number(raw[FIELD.pausedSeconds] ?? 0),
  };
  const latency = new Map<string, EndpointLatency>();
  const latencyOf = (endpoint: string, partner: string | undefined) => {
    const id = labelled(endpoint, partner);
    let entry = latency.get(id);
    if (!entry) {
      entry = { endpoint, ...(partner !== undefined ? { partner } : {}), buckets: emptyBuckets(), sumSeconds: 0 };
      latency.set(id, entry);
    }
    return entry;
  };
  for (const [field, value] of Object.entries(raw)) {
    const { parts, partner } = splitField(field);
    const [kind, endpoint, rest] = parts;
    const n = Number(value);
    const clientCount = CLIENT_COUNT_FIELDS.find(([, name]) => name === kind);
    if (clientCount && endpoint === undefined) {
      const counts = partner === undefined ? snapshot : (snapshot.byPartner[partner] ??= zeroCounts());
      counts[clientCount[0]] += n;
    } else if (endpoint === undefined) continue;
    else if (kind === 'calls' && rest !== undefined)
      snapshot.calls.push({ endpoint, status: rest, count: n, ...(partner !== undefined ? { partner } : {}) });
    else if (kind === 'bucket' && rest !== undefined) latencyOf(endpoint, partner).buckets[Number(rest)] = n;
    else if (kind === 'seconds') latencyOf(endpoint, partner).sumSeconds = n;
  }
  snapshot.latency = [...latency.values()];
  return snapshot;
}

/** A counters field's parts, and the partner it is labelled with, if any. */
function splitField(field: string): { parts: string[]; partner?: string } {
  const parts = field.split(SEP);
  const last = parts[parts.length - 1] ?? '';
  if (parts.length < 2 || !last.startsWith(PARTNER_MARK)) return { parts };
  return { parts: parts.slice(0, -1), partner: last.slice(PARTNER_MARK.length) };
}

const emptyBuckets = () => LATENCY_BUCKETS.map(() => 0).concat(0);
const zeroCounts = (): ClientCounts => ({ tokenIssues: 0, rateLimited: 0, grants: 0, lateSends: 0 });

/** While Redis is away the outage is told once (src/redis/availability.ts), not once a second here. */
function quietLevel(err: unknown): 'debug' | 'warn' {
  return isRedisOutage(err) ? 'debug' : 'warn';
}
