import { Cluster } from 'ioredis';
import type { RedisConnection } from './connection.js';

/**
 * Every key matching `pattern`, by SCAN (never KEYS, so a busy Redis is not blocked). SCAN
 * walks one server's keyspace: on a cluster each master is scanned in turn, since a command
 * sent to the cluster would reach one node picked at random.
 */
export async function* scanKeys(redis: RedisConnection, pattern: string, count = 500): AsyncIterable<string[]> {
  const servers = redis instanceof Cluster ? redis.nodes('master') : [redis];
  for (const server of servers) {
    let cursor = '0';
    do {
      const [next, keys] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', count);
      cursor = next;
      if (keys.length > 0) yield keys;
    } while (cursor !== '0');
  }
}
