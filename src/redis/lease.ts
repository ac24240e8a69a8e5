import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { RedisConnection } from './connection.js';
import { withScripts } from './scripts.js';

/**
 * One holder at a time across every process of the install: a key set with NX and a time to
 * live, renewed by its holder while it works, so a holder that dies frees it after `ttlMs`
 * instead of never. The value names the holder (host, pid, what for, since when), so whoever
 * finds it taken can say by whom.
 */
export const leaseHolderSchema = z.object({
  token: z.string(),
  owner: z.string(),
  purpose: z.string(),
  since: z.number(),
});
export type LeaseHolder = z.infer<typeof leaseHolderSchema>;

export type LeaseOutcome<T> = { ran: true; value: T } | { ran: false; heldBy: LeaseHolder | undefined };

export interface LeaseOptions {
  redis: RedisConnection;
  key: string;
  /** How long the lease outlives a holder that stopped renewing it. */
  ttlMs: number;
  /** Told when a renewal found the lease gone or another's (the work goes on: it cannot be undone halfway). */
  onLost?: (holder: LeaseHolder) => void;
}

export class Lease {
  constructor(private readonly opts: LeaseOptions) {}

  /** Runs `work` while holding the lease, or nothing when another holds it. */
  async run<T>(purpose: string, work: () => Promise<T>): Promise<LeaseOutcome<T>> {
    const { redis, key, ttlMs } = this.opts;
    const holder: LeaseHolder = {
      token: randomBytes(8).toString('hex'),
      owner: `${hostname()}:${process.pid}`,
      purpose,
      since: Date.now(),
    };
    const value = JSON.stringify(holder);
    if ((await redis.set(key, value, 'PX', ttlMs, 'NX')) !== 'OK') return { ran: false, heldBy: await this.holder() };
    const scripts = withScripts(redis);
    let lost = false;
    const renew = async () => {
      if (lost || (await scripts.leaseRenew(key, value, ttlMs)) === 1) return;
      lost = true;
      this.opts.onLost?.(holder);
    };
    const timer = setInterval(() => void renew().catch(() => undefined), Math.max(100, Math.floor(ttlMs / 3)));
    try {
      return { ran: true, value: await work() };
    } finally {
      clearInterval(timer);
      await scripts.leaseRelease(key, value).catch(() => undefined);
    }
  }

  /** Who holds it now, if anyone. */
  async holder(): Promise<LeaseHolder | undefined> {
    const text = await this.opts.redis.get(this.opts.key);
    if (text === null) return undefined;
    try {
      const parsed = leaseHolderSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }
}
