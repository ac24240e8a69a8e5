import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConnection } from '../../src/redis/connection.js';
import { RedisKeys } from '../../src/redis/keys.js';
import type { CustomerDrift } from '../../src/reconcile/drift.js';
import { DriftStore } from '../../src/reconcile/drift-store.js';
import { connectTestRedis, removeKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';

/** What a sweep leaves for the Drift page, the funnel and the next sweep (docs/reconcile.md "What is kept"). */

const prefix = uniquePrefix('drift-store');
let redis: RedisConnection;
let keys: RedisKeys;
let store: DriftStore;

function drift(customerId: string, over: Partial<CustomerDrift> = {}): CustomerDrift {
  return {
    customerId,
    name: `Customer ${customerId}`,
    batchId: 'b-1',
    tenantId: `t-${customerId}`,
    checkedAt: 1_000,
    differences: [],
    funnel: { created: true, activated: false, agentRegistered: false },
    ...over,
  };
}

const quotaDrift = {
  kind: 'quota' as const,
  field: 'quota:storage',
  expected: '1099511627776',
  actual: '5',
  text: 'storage quota is 5 bytes; the profile says 1 TiB',
};

beforeAll(async () => {
  redis = connectTestRedis(TEST_REDIS_URL);
  keys = new RedisKeys(prefix);
  store = new DriftStore(redis, keys);
  await redis.zadd(keys.batchCustomers('b-1'), 1, 'c-1', 2, 'c-2', 3, 'c-3');
});

afterAll(async () => {
  await removeKeys(redis, prefix);
  redis.disconnect();
});

describe('DriftStore', () => {
  it("keeps each customer's last finding, and lists the drifting ones for the Drift page", async () => {
    await store.save([
      drift('c-1', { differences: [quotaDrift], checkedAt: 2_000 }),
      drift('c-2'),
      drift('c-3', { differences: [{ ...quotaDrift, kind: 'record-healed', field: 'record' }] }),
    ]);
    expect((await store.get('c-1'))?.differences).toEqual([quotaDrift]);
    expect((await store.list({ onlyDrifting: true })).map((d) => d.customerId)).toEqual(['c-1']);
    expect((await store.list()).map((d) => d.customerId)).toEqual(['c-1', 'c-2', 'c-3']);
    expect(await store.list({ limit: 2 })).toHaveLength(2);
    expect(await store.get('nobody')).toBeNull();

    // Fixed: the next finding replaces the last whole, and the customer leaves the Drift page.
    await store.save([drift('c-1', { checkedAt: 3_000 })]);
    expect(await store.list({ onlyDrifting: true })).toEqual([]);
    expect(await store.driftingCount()).toBe(0);
  });

  it("counts a batch's funnel from its customers' last findings", async () => {
    await store.save([
      drift('c-1', { funnel: { created: true, activated: true, agentRegistered: true }, checkedAt: 5_000 }),
      drift('c-2', { funnel: { created: true, activated: true, agentRegistered: false }, checkedAt: 4_000 }),
    ]);
    expect(await store.funnel('b-1')).toEqual({
      customers: 3,
      created: 3,
      activated: 2,
      agentRegistered: 1,
      checkedAt: 5_000,
    });
    expect(await store.funnel('b-none')).toEqual({
      customers: 0,
      created: 0,
      activated: 0,
      agentRegistered: 0,
      checkedAt: null,
    });
    // A customer taken over by a later batch counts in that batch's funnel, not in both.
    await store.save([drift('c-3', { batchId: 'b-2' })]);
    expect((await store.funnel('b-1')).created).toBe(2);
    expect((await store.funnel('b-2')).created).toBe(1);
  });

  it("keeps the last sweep's summary and the next sweep's cursor", async () => {
    expect(await store.lastSweep()).toBeNull();
    expect(await store.cursor()).toBeNull();
    const summary = {
      startedAt: 1,
      finishedAt: 2,
      mode: 'full' as const,
      listingPages: 3,
      calls: 40,
      tenantsChanged: 5,
      customersChecked: 5,
      drifting: 1,
      healed: 0,
      byKind: { quota: 1 },
    };
    await store.saveSweep(summary);
    await store.setCursor(1_234);
    expect(await store.lastSweep()).toEqual(summary);
    expect(await store.cursor()).toBe(1_234);
  });
});
