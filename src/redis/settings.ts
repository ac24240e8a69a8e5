import { Cluster } from 'ioredis';
import type { RedisConnection } from './connection.js';
import { ConfigError } from '../config.js';

/**
 * What the install needs of its Redis (docs/operations.md "Redis requirements"): replay protection and exactly-once live
 * in Redis, so it must keep its data. `maxmemory-policy` other than `noeviction` lets Redis
 * drop keys — a job, a lock, a delivery id — when memory runs short (BullMQ requires
 * noeviction): refused. No persistence loses them at a restart: a clear warning. A managed Redis
 * that forbids CONFIG cannot be checked: a warning says so. On a cluster every master holds
 * some of the keys, so each is checked and named in what is said.
 */
export async function checkRedisSettings(redis: RedisConnection, redisUrl: string): Promise<string[]> {
  if (!(redis instanceof Cluster)) return checkServer(redis, redisUrl);
  const warnings: string[] = [];
  for (const master of redis.nodes('master')) {
    const node = `${master.options.host}:${master.options.port}`;
    warnings.push(...(await checkServer(master, `${redisUrl}, master ${node}`)).map((w) => `master ${node}: ${w}`));
  }
  return warnings;
}

async function checkServer(redis: RedisConnection, redisUrl: string): Promise<string[]> {
  let settings: Record<string, string>;
  try {
    settings = await readConfig(redis, ['maxmemory-policy', 'appendonly', 'save']);
  } catch (err) {
    return [
      `could not check the Redis settings (CONFIG GET: ${(err as Error).message}); make sure maxmemory-policy is noeviction and appendonly is yes`,
    ];
  }
  const policy = settings['maxmemory-policy'];
  if (policy !== undefined && policy !== 'noeviction') {
    throw new ConfigError([
      {
        variable: 'REDIS_URL',
        reason:
          `Redis has maxmemory-policy ${policy}: it may evict queue jobs, locks and replay records when memory runs short. ` +
          `Set maxmemory-policy noeviction (redis.conf, or CONFIG SET maxmemory-policy noeviction) (${redisUrl})`,
      },
    ]);
  }
  const aof = settings.appendonly === 'yes';
  const rdb = (settings.save ?? '').trim() !== '';
  if (!aof && !rdb)
    return [
      'Redis persistence is off (appendonly no, save ""): a Redis restart forgets every queued step, customer state and webhook delivery id, ' +
        'so a captured webhook request could create a batch again. Set appendonly yes (redis.conf, or CONFIG SET appendonly yes)',
    ];
  if (!aof)
    return [
      'Redis keeps only RDB snapshots (appendonly no): a crash loses what was written since the last one. Set appendonly yes for AOF',
    ];
  return [];
}

async function readConfig(redis: RedisConnection, names: string[]): Promise<Record<string, string>> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const reply = (await redis.call('CONFIG', 'GET', name)) as string[];
    if (reply.length >= 2) values[reply[0] as string] = reply[1] as string;
  }
  return values;
}
