import { describe, expect, it } from 'vitest';
import { until } from '../helpers/wait.js';
import { RedisAvailability, type AvailabilityReport } from '../../src/redis/availability.js';
import { isRedisOutage, RedisOutageError } from '../../src/redis/deadline.js';
import { createRedis } from '../../src/redis/connection.js';

/** What the outage tracker absorbs (connection errors, told once by the watched connections) and what it passes on. */
function recording(): AvailabilityReport & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    down: (m) => lines.push(`down: ${m}`),
    up: (m) => lines.push(`up: ${m}`),
    error: (what, err) => lines.push(`error: ${what}: ${err.message}`),
  };
}

describe('RedisAvailability', () => {
  it("absorbs BullMQ's connection errors and reports every other error", () => {
    const report = recording();
    const tracker = new RedisAvailability('redis://:pw@127.0.0.1:6379', report);
    expect(tracker.observe('worker error', new Error('connect ECONNREFUSED 127.0.0.1:6379'))).toBe(true);
    expect(
      tracker.observe('worker error', new Error("Stream isn't writeable and enableOfflineQueue options is false")),
    ).toBe(true);
    expect(tracker.observe('worker error', new Error('Missing lock for job 12. moveToFinished'))).toBe(false);
    expect(report.lines).toEqual(['error: worker error: Missing lock for job 12. moveToFinished']);
  });

  it('takes a "Missing lock" while Redis is away or just back for the outage: a finishing command sent again', async () => {
    const report = recording();
    const url = 'redis://127.0.0.1:6379';
    const tracker = new RedisAvailability(url, report);
    const redis = tracker.watch(createRedis(url, 'worker', { lazyConnect: true }));
    try {
      await redis.connect();
      tracker.wentAway();
      expect(tracker.observe('worker error', new Error('Missing lock for job 12. moveToFinished'))).toBe(true);
      // Back: the connection says ready again (as after a reconnection).
      redis.emit('ready');
      expect(tracker.isDown).toBe(false);
      expect(tracker.observe('worker error', new Error('Missing lock for job 12. moveToDelayed'))).toBe(true);
      expect(tracker.observe('worker error', new Error('ERR unknown command'))).toBe(false);
      expect(report.lines).toEqual([
        'down: Redis at redis://127.0.0.1:6379 is unreachable; waiting for it (REDIS_URL)',
        expect.stringMatching(/^up: Redis is back after \d+\.\d s$/),
        'error: worker error: ERR unknown command',
      ]);
    } finally {
      redis.disconnect();
    }
  });

  it('says once that Redis went, with the URL redacted, however often it is told', () => {
    const report = recording();
    const tracker = new RedisAvailability('redis://:pw@127.0.0.1:6379', report);
    tracker.wentAway();
    tracker.wentAway();
    expect(tracker.isDown).toBe(true);
    expect(report.lines).toEqual([
      'down: Redis at redis://:***@127.0.0.1:6379 is unreachable; waiting for it (REDIS_URL)',
    ]);
  });

  it('tells an outage by message, code, transient reply or our deadline error', () => {
    expect(isRedisOutage(Object.assign(new Error('socket'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isRedisOutage(new Error('Connection is closed.'))).toBe(true);
    expect(isRedisOutage(new Error('LOADING Redis is loading the dataset in memory'))).toBe(true);
    expect(isRedisOutage(new RedisOutageError('store: no answer within 2000 ms'))).toBe(true);
    expect(isRedisOutage(new Error('ERR unknown command'))).toBe(false);
    // Only the reply that starts with LOADING: a message that merely mentions it is an error to report.
    expect(isRedisOutage(new Error('ERR Error running script: loading profile failed'))).toBe(false);
  });

  it('a worker waiting for Redis behind Sentinels that do not answer says once that it waits, passwords masked', async () => {
    const report = recording();
    const url = 'redis+sentinel://:hunter22@127.0.0.1:1/onboard?sentinel_password=hunter33';
    const tracker = new RedisAvailability(url, report);
    const redis = tracker.watch(createRedis(url, 'worker', { lazyConnect: true }));
    const waiting = new AbortController();
    const waited = tracker.waitUntilReady(redis, waiting.signal).catch((err: unknown) => err);
    await until(async () => tracker.isDown, 'the worker to say Redis is away', 10_000);
    waiting.abort(new Error('stopped'));
    expect(await waited).toMatchObject({ message: 'stopped' });
    redis.disconnect();
    expect(report.lines).toEqual([
      'down: Redis at redis+sentinel://:***@127.0.0.1:1/onboard?sentinel_password=*** is unreachable; waiting for it (REDIS_URL)',
    ]);
  });
});
