/**
 * What REDIS_URL names: one Redis (`redis://`, `rediss://`, handed to ioredis as it is), a
 * Redis Cluster (`redis+cluster://[user:password@]host:port,host:port`, `rediss+cluster://`
 * for TLS; a cluster needs only some of its masters listed: ioredis learns the rest from
 * CLUSTER SLOTS, docs/redis-cluster.md), or a primary found through Redis Sentinel
 * (`redis+sentinel://[user:password@]host:port,host:port/primary-name[/db]`, docs/operations.md
 * "Redis Sentinel"): the userinfo is the primary's and its replicas', `?sentinel_password=`
 * (and `sentinel_username=`) the Sentinels' own.
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster';
      nodes: { host: string; port: number }[];
      tls: boolean;
      username?: string;
      password?: string;
    }
  | SentinelTarget;

export interface SentinelTarget {
  kind: 'sentinel';
  sentinels: { host: string; port: number }[];
  /** The name the Sentinels monitor the primary under (`sentinel monitor <name> …`). */
  name: string;
  db: number;
  username?: string;
  password?: string;
  sentinelUsername?: string;
  sentinelPassword?: string;
}

export class RedisUrlError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RedisUrlError';
  }
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#@]+)\/?$/i;
const SENTINEL_URL = /^redis\+sentinel:\/\/(?:([^@/]*)@)?([^/?#@]+)\/([^/?#]*)(?:\/([^/?#]*))?\/?(?:\?([^#]*))?$/i;
const SINGLE_URL = /^rediss?:\/\//i;
/** Sentinel's own port (redis.io/docs/latest/operate/oss_and_stack/management/sentinel/). */
const SENTINEL_PORT = 26379;
const SENTINEL_OPTIONS = ['sentinel_username', 'sentinel_password'] as const;

/** Throws RedisUrlError with what is wrong, for the ConfigError of REDIS_URL. */
export function parseRedisTarget(url: string): RedisTarget {
  if (SINGLE_URL.test(url)) {
    if (!URL.canParse(url)) throw new RedisUrlError('is not a valid redis:// URL');
    return { kind: 'single', url };
  }
  if (/^rediss?\+sentinel:/i.test(url)) return parseSentinelTarget(url);
  const match = CLUSTER_URL.exec(url);
  if (!match)
    throw new RedisUrlError(
      'must be a redis:// or rediss:// URL, redis+cluster://host:port,host:port for a Redis Cluster, ' +
        'or redis+sentinel://host:port,host:port/primary-name for Redis Sentinel',
    );
  const [, scheme, userinfo, hostList] = match as unknown as [string, string, string | undefined, string];
  return {
    kind: 'cluster',
    nodes: hostList.split(',').map((node) => parseNode(node, 6379, 'cluster node')),
    tls: scheme.toLowerCase() === 'rediss',
    ...parseUserinfo(userinfo),
  };
}

/**
 * The form the redis-py world uses for Sentinel (Redis-Sentinel-Url, redisvl, prefect-redis):
 * Sentinels listed like a cluster's nodes (port 26379 by default), then the primary's name and
 * the database, as ioredis' `sentinels` and `name` options take them.
 */
function parseSentinelTarget(url: string): SentinelTarget {
  if (/^rediss/i.test(url))
    throw new RedisUrlError('rediss+sentinel:// (TLS to the Sentinels) is not supported: use redis+sentinel://');
  const match = SENTINEL_URL.exec(url);
  if (!match)
    throw new RedisUrlError(
      'must be redis+sentinel://[:password@]host:port,host:port/primary-name[/db] for Redis Sentinel',
    );
  const [, userinfo, hostList, name, db, query] = match as unknown as [
    string,
    string | undefined,
    string,
    string,
    string | undefined,
    string | undefined,
  ];
  if (!name) throw new RedisUrlError('names no primary: redis+sentinel://host:port/primary-name (sentinel monitor)');
  if (db !== undefined && !/^\d{1,5}$/.test(db))
    throw new RedisUrlError(`names a database "${db}" that is not a number`);
  return {
    kind: 'sentinel',
    sentinels: hostList.split(',').map((node) => parseNode(node, SENTINEL_PORT, 'Sentinel')),
    name: decodeURIComponent(name),
    db: Number(db ?? 0),
    ...parseUserinfo(userinfo),
    ...parseSentinelOptions(query),
  };
}

function parseSentinelOptions(query: string | undefined): { sentinelUsername?: string; sentinelPassword?: string } {
  const params = new URLSearchParams(query ?? '');
  for (const key of params.keys())
    if (!(SENTINEL_OPTIONS as readonly string[]).includes(key))
      throw new RedisUrlError(`has an option "${key}" it does not know (${SENTINEL_OPTIONS.join(', ')})`);
  const username = params.get('sentinel_username');
  const password = params.get('sentinel_password');
  return { ...(username ? { sentinelUsername: username } : {}), ...(password ? { sentinelPassword: password } : {}) };
}

function parseNode(text: string, defaultPort: number, what: string): { host: string; port: number } {
  const node = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(text.trim());
  const port = Number(node?.[2] ?? defaultPort);
  if (!node || port < 1 || port > 65535) throw new RedisUrlError(`names a ${what} "${text}" that is not host:port`);
  return { host: node[1]!.replace(/^\[(.*)\]$/, '$1'), port };
}

function parseUserinfo(userinfo: string | undefined): { username?: string; password?: string } {
  if (!userinfo) return {};
  // As in any URL: `user`, `user:password` or `:password` (Redis before ACLs has no user names).
  const colon = userinfo.indexOf(':');
  const [user, password] = colon < 0 ? [userinfo, ''] : [userinfo.slice(0, colon), userinfo.slice(colon + 1)];
  return {
    ...(user ? { username: decodeURIComponent(user) } : {}),
    ...(password ? { password: decodeURIComponent(password) } : {}),
  };
}

/**
 * Redis Cluster keeps the keys of a multi-key command, a MULTI or a Lua script in one slot
 * only if they share a hash tag: the text between the first `{` and the next `}`. Every key
 * of the install starts with QUEUE_PREFIX, so a prefix holding a tag puts them all in one
 * slot (BullMQ's documented cluster setup). A prefix without one is wrapped: `onboard` →
 * `{onboard}`. Single-node installs keep their prefix, so their keys keep their names.
 */
export function clusterQueuePrefix(prefix: string): string {
  return hasHashTag(prefix) ? prefix : `{${prefix}}`;
}

function hasHashTag(prefix: string): boolean {
  const open = prefix.indexOf('{');
  if (open < 0) return false;
  const close = prefix.indexOf('}', open + 1);
  return close > open + 1;
}

/** A REDIS_URL without its passwords (the Sentinels' too), for messages. */
export function redactRedisUrl(url: string): string {
  const cluster = CLUSTER_URL.exec(url);
  if (cluster) {
    const [, scheme, userinfo, hosts] = cluster as unknown as [string, string, string | undefined, string];
    return `${scheme}+cluster://${redactUserinfo(userinfo)}${hosts}`;
  }
  if (/^rediss?\+sentinel:/i.test(url)) return redactSentinelUrl(url);
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable REDIS_URL)';
  }
}

function redactUserinfo(userinfo: string | undefined): string {
  if (userinfo === undefined) return '';
  const colon = userinfo.indexOf(':');
  return colon < 0 ? `${userinfo}@` : `${userinfo.slice(0, colon)}:***@`;
}

function redactSentinelUrl(url: string): string {
  const sentinel = SENTINEL_URL.exec(url);
  if (!sentinel) return '(unparsable REDIS_URL)';
  const [, userinfo, hosts, name, db, query] = sentinel as unknown as (string | undefined)[];
  const params = new URLSearchParams(query ?? '');
  if (params.has('sentinel_password')) params.set('sentinel_password', '***');
  const options = params.size > 0 ? `?${params.toString().replace(/%2A/g, '*')}` : '';
  return `redis+sentinel://${redactUserinfo(userinfo)}${hosts}/${name}${db !== undefined ? `/${db}` : ''}${options}`;
}
