import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { redactUrl } from '../../src/redis/connection.js';
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
