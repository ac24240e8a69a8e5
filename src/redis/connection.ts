import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisTarget, redactRedisUrl, type RedisTarget, type SentinelTarget } from './target.js';

/**
 * A connection to the install's Redis: one server, a primary found through Sentinel (an ioredis
 * `Redis` too; docs/operations.md "Redis Sentinel") or a Redis Cluster (REDIS_URL,
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
  if (target.kind === 'sentinel') return createSentinelClient(target, role, { ...options, ...extra });
  return createCluster(target, { ...options, ...extra });
}

/**
 * ioredis asks the Sentinels for the primary at every (re)connection and checks the server it
 * reached says `role:master` (github.com/redis/ioredis#sentinel). Two things are added:
 * - a fail-fast connection that never reached a primary does not go round the Sentinels for
 *   ever when none answers, so a command still says "Redis does not answer"; once connected it
 *   keeps asking them, as a worker's does: giving up then would close it for good;
 * - a READONLY reply (a primary demoted under a connection) reconnects through the Sentinels
 *   and sends the refused command again: it was not carried out.
 * ioredis' `failoverDetector` is left off: its `+switch-master` disconnect, landing while a
 * reconnection asks the Sentinels, ends the connection for good (seen in the failover test).
 */
function createSentinelClient(target: SentinelTarget, role: RedisRole, options: RedisOptions): Redis {
  let everReady = role === 'worker';
  const redis = new Redis({
    ...options,
    sentinels: target.sentinels,
    name: target.name,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.sentinelUsername ? { sentinelUsername: target.sentinelUsername } : {}),
    ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
    sentinelRetryStrategy: (times) => (everReady ? Math.min(times * 10, 1000) : null),
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  });
  redis.once('ready', () => (everReady = true));
  return redis;
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
    const sentinel = /^rediss?\+sentinel:/i.test(url);
    const fix = sentinel
      ? 'check that a Sentinel it names answers and monitors that primary name'
      : 'start it (redis-server), or set REDIS_URL';
    super(`Redis does not answer at ${redactUrl(url)} (${(cause as Error)?.message ?? cause}): ${fix}`, { cause });
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

/**
 * A short-lived connection, for `check`, to one Sentinel itself (`sentinel`: with the Sentinels'
 * credentials) or to one server of the group it watches (`server`: with the primary's and
 * replicas' credentials): one try, no retry, so one that does not answer is named, not waited for.
 */
export function connectSentinelGroupNode(
  target: SentinelTarget,
  node: { host: string; port: number },
  kind: 'sentinel' | 'server',
): Redis {
  const [username, password] =
    kind === 'sentinel' ? [target.sentinelUsername, target.sentinelPassword] : [target.username, target.password];
  return new Redis({
    ...node,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(kind === 'server' ? { db: target.db } : {}),
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
    retryStrategy: () => null,
  });
}
