import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisTarget, redactRedisUrl, type RedisTarget } from './target.js';

/**
 * A connection to the install's Redis: one server or a Redis Cluster (REDIS_URL,
 * docs/redis-cluster.md). Every module takes this type; only this module constructs one.
 */
export type RedisConnection = Redis | Cluster;

/**
 * Redis connections come in two temperaments (docs/bullmq.md §1.10): workers wait out a
 * Redis restart (`maxRetriesPerRequest: null`), while producers and CLI commands fail fast
 * so a webhook answers 503 and a command says "Redis is down" instead of hanging.
 */
export type RedisRole = 'worker' | 'fail-fast';

export function createRedis(url: string, role: RedisRole, extra: RedisOptions = {}): RedisConnection {
  const options: RedisOptions =
    role === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000, lazyConnect: true };
  const target = parseRedisTarget(url);
  if (target.kind === 'single') return new Redis(url, { ...options, ...extra });
  return createCluster(target, { ...options, ...extra });
}

/**
 * The same temperaments on a cluster: ioredis takes the queueing and connecting options at the
 * cluster level and the per-command ones (maxRetriesPerRequest: null for BullMQ workers) in
 * `redisOptions`, which it gives every node connection.
 */
function createCluster(target: Extract<RedisTarget, { kind: 'cluster' }>, options: RedisOptions): Cluster {
  const { lazyConnect, enableOfflineQueue, enableReadyCheck, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    lazyConnect,
    enableOfflineQueue,
    enableReadyCheck,
    redisOptions: {
      ...perNode,
      ...(target.username ? { username: target.username } : {}),
      ...(target.password ? { password: target.password } : {}),
      ...(target.tls ? { tls: {} } : {}),
    },
    // Managed TLS clusters announce names their certificates match: connect by name, not by a resolved IP.
    ...(target.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  return new Cluster(target.nodes, clusterOptions);
}

export class RedisUnavailableError extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `Redis does not answer at ${redactUrl(url)} (${(cause as Error)?.message ?? cause}): start it (redis-server), or set REDIS_URL`,
      { cause },
    );
    this.name = 'RedisUnavailableError';
  }
}

/** Connects a lazy fail-fast client and checks it answers, so the first command does not fail obscurely. */
export async function connectOrExplain<R extends RedisConnection>(redis: R, url: string): Promise<R> {
  // The refusal itself (ECONNREFUSED …) is the reason worth printing, not ioredis' "Connection is closed."
  let refusal: unknown;
  const remember = (err: unknown) => (refusal = err);
  redis.on('error', remember);
  try {
    if (redis.status === 'wait') await redis.connect();
    await redis.ping();
    return redis;
  } catch (cause) {
    redis.disconnect();
    throw new RedisUnavailableError(url, refusal ?? cause);
  } finally {
    redis.off('error', remember);
  }
}

/** A Redis URL without its password, for messages. */
export function redactUrl(url: string): string {
  return redactRedisUrl(url);
}
