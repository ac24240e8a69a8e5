import type { RedisConnection } from '../redis/connection.js';
import type { RedisKeys } from '../redis/keys.js';
import {
  customerDriftSchema,
  isDrifting,
  sweepSummarySchema,
  type CustomerDrift,
  type FunnelFacts,
  type SweepSummary,
} from './drift.js';

/** A batch's onboarding funnel as the last sweeps found it. */
export interface BatchFunnel {
  /** The batch's customers, checked or not. */
  customers: number;
  created: number;
  activated: number;
  agentRegistered: number;
  /** When the last sweep that checked one of them ran (ms); null before any. */
  checkedAt: number | null;
}

export interface DriftListOptions {
  onlyDrifting?: boolean;
  limit?: number;
}

/**
 * What reconcile sweeps found, beside the onboarding store: each customer's last finding, the
 * customers drifting (for the Drift page), each batch's funnel and the last sweep's summary
 * (docs/architecture.md "Redis keys"). A finding replaces the previous one whole.
 */
export class DriftStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {}

  /** Replaces each customer's last finding; a customer moved to another batch leaves its old funnel. */
  async save(drifts: readonly CustomerDrift[]): Promise<void> {
    if (drifts.length === 0) return;
    const previous = await this.getMany(drifts.map((d) => d.customerId));
    const multi = this.redis.multi();
    drifts.forEach((drift, i) => {
      const before = previous[i];
      if (before?.batchId && before.batchId !== drift.batchId) {
        multi.hdel(this.keys.driftBatchFunnel(before.batchId), drift.customerId);
      }
      multi.hset(this.keys.driftCustomers, drift.customerId, JSON.stringify(customerDriftSchema.parse(drift)));
      if (isDrifting(drift)) multi.zadd(this.keys.driftDrifting, drift.checkedAt, drift.customerId);
      else multi.zrem(this.keys.driftDrifting, drift.customerId);
      if (drift.batchId) {
        multi.hset(this.keys.driftBatchFunnel(drift.batchId), drift.customerId, funnelFlags(drift));
      }
    });
    await multi.exec();
  }

  async get(customerId: string): Promise<CustomerDrift | null> {
    return (await this.getMany([customerId]))[0] ?? null;
  }

  async getMany(customerIds: readonly string[]): Promise<(CustomerDrift | null)[]> {
    if (customerIds.length === 0) return [];
    const values = await this.redis.hmget(this.keys.driftCustomers, ...customerIds);
    return values.map(parseDrift);
  }

  /** The drifting customers, most recently checked first, or every finding (by customer key). */
  async list(opts: DriftListOptions = {}): Promise<CustomerDrift[]> {
    const limit = opts.limit ?? Number.POSITIVE_INFINITY;
    if (opts.onlyDrifting) {
      const stop = Number.isFinite(limit) ? limit - 1 : -1;
      if (stop < -1 || limit === 0) return [];
      const ids = await this.redis.zrevrange(this.keys.driftDrifting, 0, stop);
      return (await this.getMany(ids)).filter((d): d is CustomerDrift => d !== null);
    }
    const all = await this.redis.hgetall(this.keys.driftCustomers);
    const drifts = Object.keys(all)
      .sort()
      .map((id) => parseDrift(all[id] ?? null))
      .filter((d): d is CustomerDrift => d !== null);
    return drifts.slice(0, limit);
  }

  /** How many customers drift now. */
  async driftingCount(): Promise<number> {
    return this.redis.zcard(this.keys.driftDrifting);
  }

  /** Forgets a customer's finding (its record is gone for good). */
  async forget(customerId: string): Promise<void> {
    const before = await this.get(customerId);
    const multi = this.redis
      .multi()
      .hdel(this.keys.driftCustomers, customerId)
      .zrem(this.keys.driftDrifting, customerId);
    if (before?.batchId) multi.hdel(this.keys.driftBatchFunnel(before.batchId), customerId);
    await multi.exec();
  }

  async saveSweep(summary: SweepSummary): Promise<void> {
    await this.redis.set(this.keys.driftLastSweep, JSON.stringify(sweepSummarySchema.parse(summary)));
  }

  async lastSweep(): Promise<SweepSummary | null> {
    const json = await this.redis.get(this.keys.driftLastSweep);
    if (json === null) return null;
    const parsed = sweepSummarySchema.safeParse(safeJson(json));
    return parsed.success ? parsed.data : null;
  }

  /** The last sweep's tenants listing `timestamp` (ms), or null: no sweep yet, the next is full. */
  /** No partner: the default partner's (an install of one partner has only that one). */
  async cursor(partner?: string): Promise<number | null> {
    const value = await this.redis.get(this.keys.driftCursorOf(partner));
    const ms = value === null ? Number.NaN : Number(value);
    return Number.isFinite(ms) ? ms : null;
  }

  async setCursor(ms: number, partner?: string): Promise<void> {
    await this.redis.set(this.keys.driftCursorOf(partner), String(ms));
  }

  async funnel(batchId: string): Promise<BatchFunnel> {
    const [customers, values] = await Promise.all([
      this.redis.zcard(this.keys.batchCustomers(batchId)),
      this.redis.hvals(this.keys.driftBatchFunnel(batchId)),
    ]);
    const count = (at: number) => values.filter((v) => v[at] === '1').length;
    const checked = values.map((v) => Number(v.split(':')[1])).filter(Number.isFinite);
    return {
      customers,
      created: count(0),
      activated: count(1),
      agentRegistered: count(2),
      checkedAt: checked.length > 0 ? Math.max(...checked) : null,
    };
  }
}

/** `110:<checkedAt>`: created, activated, agent registered, and when. */
function funnelFlags(drift: { funnel: FunnelFacts; checkedAt: number }): string {
  const { created, activated, agentRegistered } = drift.funnel;
  return `${[created, activated, agentRegistered].map((b) => (b ? '1' : '0')).join('')}:${drift.checkedAt}`;
}

function parseDrift(json: string | null): CustomerDrift | null {
  if (json === null) return null;
  const parsed = customerDriftSchema.safeParse(safeJson(json));
  return parsed.success ? parsed.data : null;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
