import type { RedisConnection } from '../redis/connection.js';
import { z } from 'zod';
import type { AcronisEndpoints } from '../acronis/client.js';
import { offeringItemSchema, type OfferingItem } from '../acronis/offering-items.js';
import type { RedisKeys } from '../redis/keys.js';

/**
 * available_for_child per partner and edition (and a template customer's enabled items),
 * fetched once and shared through Redis by every worker for a few minutes, so a batch of
 * 350 customers makes one call instead of 350 identical ones. A short lock makes the other
 * processes wait for the first fetch rather than make their own; each process also shares
 * one in-flight fetch between its own jobs.
 */
export interface OfferingCacheOptions {
  redis: RedisConnection;
  keys: RedisKeys;
  acronis: Pick<AcronisEndpoints, 'getAvailableForChild' | 'getOfferingItems'>;
  /** How long an answer is reused; short, so a change in the partner's offer is seen soon. Default 300 s. */
  ttlSeconds?: number;
  /** How long other processes wait for the fetching one before fetching themselves. Default 15 s. */
  lockMs?: number;
}

const itemsSchema = z.array(offeringItemSchema);

export class OfferingCache {
  private readonly inFlight = new Map<string, Promise<OfferingItem[]>>();

  constructor(private readonly opts: OfferingCacheOptions) {}

  availableForChild(partnerTenantId: string, edition: string): Promise<OfferingItem[]> {
    return this.cached(`afc:${partnerTenantId}:${edition}`, () =>
      this.opts.acronis.getAvailableForChild(partnerTenantId, { kind: 'customer', edition }),
    );
  }

  enabledItemsOf(templateTenantId: string): Promise<OfferingItem[]> {
    return this.cached(`template:${templateTenantId}`, () =>
      this.opts.acronis.getOfferingItems(templateTenantId, { edition: '*', status: 1 }),
    );
  }

  private cached(name: string, fetch: () => Promise<OfferingItem[]>): Promise<OfferingItem[]> {
    const running = this.inFlight.get(name);
    if (running) return running;
    const promise = this.load(name, fetch).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, promise);
    return promise;
  }

  private async load(name: string, fetch: () => Promise<OfferingItem[]>): Promise<OfferingItem[]> {
    const { value: key, lock: lockKey } = this.opts.keys.offeringCache(name);
    const lockMs = this.opts.lockMs ?? 15_000;
    const deadline = Date.now() + lockMs;
    for (;;) {
      const hit = await this.opts.redis.get(key);
      if (hit !== null) return itemsSchema.parse(JSON.parse(hit));
      const locked = await this.opts.redis.set(lockKey, '1', 'PX', lockMs, 'NX');
      if (locked === 'OK' || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    try {
      const items = await fetch();
      await this.opts.redis.set(key, JSON.stringify(items), 'EX', this.opts.ttlSeconds ?? 300);
      return items;
    } finally {
      await this.opts.redis.del(lockKey);
    }
  }
}
