import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { Redis } from 'ioredis';
import { connectOrExplain, createRedis, redactUrl, RedisUnavailableError } from '../../src/redis/connection.js';
import { clusterQueuePrefix, parseRedisTarget } from '../../src/redis/target.js';

describe('REDIS_URL naming a Redis Cluster', () => {
  it('redis+cluster:// lists the nodes; user and password come from the userinfo; rediss+cluster:// is TLS', () => {
    expect(parseRedisTarget('redis+cluster://10.0.0.1:7000,10.0.0.2:7001,redis-c')).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: '10.0.0.2', port: 7001 },
        { host: 'redis-c', port: 6379 },
      ],
      tls: false,
    });
    expect(parseRedisTarget('rediss+cluster://app:p%40ss@[::1]:7000/')).toEqual({
      kind: 'cluster',
      nodes: [{ host: '::1', port: 7000 }],
      tls: true,
      username: 'app',
      password: 'p@ss',
    });
    expect(parseRedisTarget('redis+cluster://:secret@a:1')).toMatchObject({ password: 'secret' });
  });

  it('a single-node URL is handed on as it is', () => {
    expect(parseRedisTarget('rediss://:pw@redis.example:6380/2')).toEqual({
      kind: 'single',
      url: 'rediss://:pw@redis.example:6380/2',
    });
  });

  it.each(['redis+cluster://', 'redis+cluster://a:99999', 'redis+cluster://a:1,,b:2', 'http+cluster://a:1', 'x'])(
    'refuses %s, naming REDIS_URL',
    (url) => {
      expect(() => loadConfig({ REDIS_URL: url })).toThrow(ConfigError);
      expect(() => loadConfig({ REDIS_URL: url })).toThrow(/REDIS_URL/);
    },
  );

  it('on a cluster QUEUE_PREFIX gets a hash tag unless it has one; on one Redis it stays as set', () => {
    const cluster = 'redis+cluster://127.0.0.1:7000';
    expect(loadConfig({ REDIS_URL: cluster }).QUEUE_PREFIX).toBe('{onboard}');
    expect(loadConfig({ REDIS_URL: cluster, QUEUE_PREFIX: 'acme' }).QUEUE_PREFIX).toBe('{acme}');
    expect(loadConfig({ REDIS_URL: cluster, QUEUE_PREFIX: 'acme-{eu}' }).QUEUE_PREFIX).toBe('acme-{eu}');
    // `{}` is no tag (Redis hashes the whole key then), nor is a `{` never closed: wrapped.
    expect(clusterQueuePrefix('a{}b')).toBe('{a{}b}');
    expect(clusterQueuePrefix('a{b')).toBe('{a{b}');
    // The tag is from the first `{` to the next `}`: a `}` before it does not count.
    expect(clusterQueuePrefix('a}b{c}')).toBe('a}b{c}');
    expect(clusterQueuePrefix('a}b')).toBe('{a}b}');
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379', QUEUE_PREFIX: 'acme' }).QUEUE_PREFIX).toBe('acme');
    // Loading the wrapped config again (a spawned command's environment) changes nothing.
    const once = loadConfig({ REDIS_URL: cluster, QUEUE_PREFIX: 'acme' });
    expect(loadConfig({ REDIS_URL: once.REDIS_URL, QUEUE_PREFIX: once.QUEUE_PREFIX }).QUEUE_PREFIX).toBe('{acme}');
    expect(parseRedisTarget(once.REDIS_URL).kind).toBe('cluster');
  });

  it('messages show the nodes and the user, never the password', () => {
    expect(redactUrl('redis+cluster://app:hunter22@a:1,b:2')).toBe('redis+cluster://app:***@a:1,b:2');
    expect(redactUrl('rediss+cluster://:hunter22@a:1')).toBe('rediss+cluster://:***@a:1');
    expect(redactUrl('redis://:hunter22@a:1')).not.toContain('hunter22');
  });
});

describe('REDIS_URL naming Redis Sentinel', () => {
  it('redis+sentinel:// lists the Sentinels (26379 by default), then the primary name and the database', () => {
    expect(parseRedisTarget('redis+sentinel://10.0.0.1:26380,sentinel-b/onboard-primary')).toEqual({
      kind: 'sentinel',
      sentinels: [
        { host: '10.0.0.1', port: 26380 },
        { host: 'sentinel-b', port: 26379 },
      ],
      name: 'onboard-primary',
      db: 0,
    });
    expect(
      parseRedisTarget(
        'redis+sentinel://app:p%40ss@[::1]:26379/mymaster/2?sentinel_password=s%26p&sentinel_username=sen',
      ),
    ).toEqual({
      kind: 'sentinel',
      sentinels: [{ host: '::1', port: 26379 }],
      name: 'mymaster',
      db: 2,
      username: 'app',
      password: 'p@ss',
      sentinelUsername: 'sen',
      sentinelPassword: 's&p',
    });
  });

  it.each([
    'redis+sentinel://a:26379',
    'redis+sentinel://a:26379/',
    'redis+sentinel://a:26379/m/x',
    'redis+sentinel://a:99999/m',
    'redis+sentinel://a:1/m?password=x',
    'rediss+sentinel://a:1/m',
  ])('refuses %s, saying why', (url) => {
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(ConfigError);
    expect(() => loadConfig({ REDIS_URL: url })).toThrow(
      /REDIS_URL: .*(primary|database|port|option|not supported|host:port)/,
    );
  });

  it('keeps QUEUE_PREFIX as set: a Sentinel-found primary is one Redis', () => {
    expect(loadConfig({ REDIS_URL: 'redis+sentinel://a/m', QUEUE_PREFIX: 'acme' }).QUEUE_PREFIX).toBe('acme');
  });

  it('messages show the Sentinels, the user and the name, never either password', () => {
    const url = 'redis+sentinel://app:hunter22@a:1,b/mymaster/3?sentinel_password=hunter33';
    expect(redactUrl(url)).toBe('redis+sentinel://app:***@a:1,b/mymaster/3?sentinel_password=***');
    expect(redactUrl('redis+sentinel://:hunter22@a/m')).toBe('redis+sentinel://:***@a/m');
    expect(new RedisUnavailableError(url, new Error('refused')).message).not.toMatch(/hunter2[23]/);
  });

  it('connects through the Sentinels with ioredis sentinel options, each password where it belongs', () => {
    const url = 'redis+sentinel://:data-pw@127.0.0.1:26379,127.0.0.1:26380/mymaster/1?sentinel_password=sentinel-pw';
    const redis = createRedis(url, 'fail-fast') as Redis;
    expect(redis.options).toMatchObject({
      sentinels: [
        { host: '127.0.0.1', port: 26379 },
        { host: '127.0.0.1', port: 26380 },
      ],
      name: 'mymaster',
      db: 1,
      password: 'data-pw',
      sentinelPassword: 'sentinel-pw',
      lazyConnect: true,
    });
    // A fail-fast command that never connected does not go round the Sentinels for ever; a worker's connection does.
    expect(redis.options.sentinelRetryStrategy?.(1)).toBeNull();
    const worker = createRedis(url, 'worker', { lazyConnect: true }) as Redis;
    expect(worker.options.sentinelRetryStrategy?.(1)).toEqual(expect.any(Number));
  });

  it('with no Sentinel answering, a command fails at once, naming the URL without its passwords', async () => {
    const url = 'redis+sentinel://:hunter22@127.0.0.1:1/onboard?sentinel_password=hunter33';
    const failure = await connectOrExplain(createRedis(url, 'fail-fast'), url).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(RedisUnavailableError);
    expect((failure as Error).message).toMatch(
      /^Redis does not answer at redis\+sentinel:\/\/:\*\*\*@127\.0\.0\.1:1\/onboard/,
    );
    expect((failure as Error).message).toMatch(/All sentinels are unreachable.*check that a Sentinel it names answers/);
    expect((failure as Error).message).not.toMatch(/hunter2[23]/);
  });
});
