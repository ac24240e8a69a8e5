import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedis, type RedisConnection } from '../../src/redis/connection.js';
import type { RequestBudgetKeys, TokenCacheKeys } from '../../src/redis/keys.js';
import { scanKeys } from '../../src/redis/scan.js';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** A unique QUEUE_PREFIX for one test file, so files never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

export function connectRedis(url = TEST_REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Any REDIS_URL, a cluster's too, as the app connects to it; commands wait out a reconnect, as connectRedis. */
export function connectTestRedis(url: string): RedisConnection {
  return createRedis(url, 'worker', { maxRetriesPerRequest: 1 });
}

/** Deletes every key under the prefix (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function removeKeys(redis: RedisConnection, prefix: string): Promise<void> {
  for await (const keys of scanKeys(redis, `${prefix}:*`)) await redis.unlink(...keys);
}

/** Every key and its values under the prefix, as text, for "nothing in clear" scans. */
export async function dumpKeys(redis: RedisConnection, prefix: string): Promise<string> {
  const out: string[] = [];
  for await (const keys of scanKeys(redis, `${prefix}:*`)) {
    for (const key of keys) {
      const type = await redis.type(key);
      out.push(key);
      if (type === 'string') out.push((await redis.get(key)) ?? '');
      else if (type === 'hash') out.push(JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') out.push(JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') out.push(JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') out.push(JSON.stringify(await redis.zrange(key, 0, -1, 'WITHSCORES')));
      else if (type === 'stream') out.push(JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  }
  return out.join('\n');
}

/** The request budget's keys under one base key, as RedisKeys lays them out. */
export function budgetKeys(key: string): RequestBudgetKeys {
  return { schedule: key, grants: `${key}:grants`, refusals: `${key}:refusals`, decisions: `${key}:decisions` };
}

/** The token cache's keys under one base key, as RedisKeys lays them out. */
export function tokenCacheKeys(key: string): TokenCacheKeys {
  return { token: key, lock: `${key}:lock`, failure: (owner) => `${key}:failed:${owner}` };
}
