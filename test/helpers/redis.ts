import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { RequestBudgetKeys, TokenCacheKeys } from '../../src/redis/keys.js';

export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** A unique QUEUE_PREFIX for one test file, so files never see each other's keys. */
export function uniquePrefix(label: string): string {
  return `test-${label}-${randomUUID().slice(0, 8)}`;
}

export function connectRedis(url = TEST_REDIS_URL): Redis {
  return new Redis(url, { maxRetriesPerRequest: 1, lazyConnect: false });
}

/** Deletes every key under the prefix (SCAN, not KEYS, so a shared Redis is not blocked). */
export async function removeKeys(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys);
  } while (cursor !== '0');
}

/** Every key and its values under the prefix, as text, for "nothing in clear" scans. */
export async function dumpKeys(redis: Redis, prefix: string): Promise<string> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
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
  } while (cursor !== '0');
  return out.join('\n');
}

/** The request budget's keys under one base key, as RedisKeys lays them out. */
export function budgetKeys(key: string): RequestBudgetKeys {
  return { schedule: key };
}

/** The token cache's keys under one base key, as RedisKeys lays them out. */
export function tokenCacheKeys(key: string): TokenCacheKeys {
  return { token: key, lock: `${key}:lock`, failure: (owner) => `${key}:failed:${owner}` };
}
