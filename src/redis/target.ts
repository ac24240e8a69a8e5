/**
 * What REDIS_URL names: one Redis (`redis://`, `rediss://`, handed to ioredis as it is) or a
 * Redis Cluster (`redis+cluster://[user:password@]host:port,host:port`, `rediss+cluster://`
 * for TLS). A cluster needs only some of its masters listed: ioredis learns the rest from
 * CLUSTER SLOTS (docs/redis-cluster.md).
 */
export type RedisTarget =
  | { kind: 'single'; url: string }
  | {
      kind: 'cluster';
      nodes: { host: string; port: number }[];
      tls: boolean;
      username?: string;
      password?: string;
    };

export class RedisUrlError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'RedisUrlError';
  }
}

const CLUSTER_URL = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#@]+)\/?$/i;
const SINGLE_URL = /^rediss?:\/\//i;

/** Throws RedisUrlError with what is wrong, for the ConfigError of REDIS_URL. */
export function parseRedisTarget(url: string): RedisTarget {
  if (SINGLE_URL.test(url)) {
    if (!URL.canParse(url)) throw new RedisUrlError('is not a valid redis:// URL');
    return { kind: 'single', url };
  }
  const match = CLUSTER_URL.exec(url);
  if (!match)
    throw new RedisUrlError(
      'must be a redis:// or rediss:// URL, or redis+cluster://host:port,host:port for a Redis Cluster',
    );
  const [, scheme, userinfo, hostList] = match as unknown as [string, string, string | undefined, string];
  return {
    kind: 'cluster',
    nodes: hostList.split(',').map(parseNode),
    tls: scheme.toLowerCase() === 'rediss',
    ...parseUserinfo(userinfo),
  };
}

function parseNode(text: string): { host: string; port: number } {
  const node = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(text.trim());
  const port = Number(node?.[2] ?? 6379);
  if (!node || port < 1 || port > 65535)
    throw new RedisUrlError(`names a cluster node "${text}" that is not host:port`);
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

/** A REDIS_URL without its password, for messages. */
export function redactRedisUrl(url: string): string {
  const cluster = CLUSTER_URL.exec(url);
  if (cluster) {
    const [, scheme, userinfo, hosts] = cluster as unknown as [string, string, string | undefined, string];
    const colon = userinfo?.indexOf(':') ?? -1;
    const user = userinfo === undefined ? '' : colon < 0 ? `${userinfo}@` : `${userinfo.slice(0, colon)}:***@`;
    return `${scheme}+cluster://${user}${hosts}`;
  }
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable REDIS_URL)';
  }
}
