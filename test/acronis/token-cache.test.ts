import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  TokenCache,
  TokenIssueError,
  TokenWaitTimeoutError,
  type IssuedToken,
  type TokenCacheOptions,
} from '../../src/acronis/token-cache.js';
import { createSecretBox, generateSecretsKey } from '../../src/secrets/secret-box.js';
import { startSimulator } from '../../src/simulator/index.js';
import { connectRedis, dumpKeys, removeKeys, TEST_REDIS_URL, tokenCacheKeys, uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix('token-cache');
const secretsKey = generateSecretsKey();
const box = createSecretBox(secretsKey);
/** Every TokenCache in a test gets its own connection, as a separate process would. */
const connections: Redis[] = [];
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  await removeKeys(redis, prefix);
  await Promise.all([redis, ...connections].map((c) => c.quit()));
});

const newKey = () => `${prefix}:acronis:token:${randomUUID().slice(0, 8)}`;

/** An issue() double that records every token it hands out, so a test can check each token at its time of use. */
function countingIssuer(lifetimeMs = 2 * 60 * 60 * 1000) {
  const issued = new Map<string, IssuedToken>();
  let failWith: Error | undefined;
  let gate: Promise<void> | undefined;
  const issuer = {
    issued,
    get count() {
      return issued.size;
    },
    failNextWith(err: Error | undefined) {
      failWith = err;
    },
    holdUntil(promise: Promise<void> | undefined) {
      gate = promise;
    },
    calls: 0,
    issue: async (): Promise<IssuedToken> => {
      issuer.calls += 1;
      if (gate) await gate;
      // Like a real /idp/token round trip: long enough for every concurrent caller to pile up.
      await new Promise((r) => setTimeout(r, 50));
      if (failWith) throw failWith;
      const token: IssuedToken = { accessToken: `at-${randomUUID()}`, expiresAt: Date.now() + lifetimeMs };
      issued.set(token.accessToken, token);
      return token;
    },
  };
  return issuer;
}

function tokenCache({
  key,
  ...opts
}: Partial<TokenCacheOptions> & Pick<TokenCacheOptions, 'issue'> & { key: string }): TokenCache {
  const connection = connectRedis();
  connections.push(connection);
  return new TokenCache({ redis: connection, box, keys: tokenCacheKeys(key), ...opts });
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A logger whose lines a test can wait for. */
function captureLogger() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const listeners = new Set<() => void>();
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      for (const l of listeners) l();
      done();
    },
  });
  return {
    lines,
    logger: pino({ level: 'debug' }, stream),
    waitFor(predicate: (line: { msg: string }) => boolean): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (lines.some(predicate)) {
            listeners.delete(check);
            resolve();
          }
        };
        listeners.add(check);
        check();
      });
    },
  };
}

describe('TokenCache in one process', () => {
  it('200 concurrent get() issue one token, shared by all, stored sealed with the token lifetime as TTL', async () => {
    const key = newKey();
    const issuer = countingIssuer();
    const cache = tokenCache({ key, issue: issuer.issue });

    const tokens = await Promise.all(Array.from({ length: 200 }, () => cache.get()));

    expect(issuer.calls).toBe(1);
    expect(new Set(tokens).size).toBe(1);
    const pttl = await redis.pttl(key);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(2 * 60 * 60 * 1000);
    // A second cache (another process) reads the stored token instead of issuing.
    const other = tokenCache({ key, issue: issuer.issue });
    expect(await other.get()).toBe(tokens[0]);
    expect(issuer.calls).toBe(1);
  });

  it('keeps the token in Redis only sealed', async () => {
    const key = newKey();
    const issuer = countingIssuer();
    const token = await tokenCache({ key, issue: issuer.issue }).get();

    const dump = await dumpKeys(redis, prefix);
    expect(dump).toContain(key);
    expect(dump).toContain('v2.');
    expect(dump).not.toContain(token);
    expect(dump).not.toContain(token.slice(3)); // the random part alone either
  });
});

describe('TokenCache across processes', () => {
  it('4 processes x 50 concurrent get() make exactly one token request', async () => {
    // The simulator's token endpoint, slowed like a real round trip so the four processes truly race.
    const endpoint = await startSimulator({ latencyMs: 100 });
    const key = newKey();
    const fixture = fileURLToPath(new URL('../fixtures/token-cache-process.ts', import.meta.url));
    const options = JSON.stringify({
      redisUrl: TEST_REDIS_URL,
      key,
      secretsKey,
      baseUrl: endpoint.url,
      clientId: endpoint.seed.clientId,
      clientSecret: endpoint.seed.clientSecret,
      calls: 50,
    });

    const children = Array.from({ length: 4 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, options], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines = createInterface({ input: child.stdout });
      const ready = deferred();
      const result = deferred<{ tokens: string[]; errors: string[]; issueCalls: number }>();
      lines.on('line', (line) => {
        if (line === 'ready') ready.resolve();
        else if (line.startsWith('result ')) result.resolve(JSON.parse(line.slice('result '.length)));
      });
      child.on('exit', (code) => {
        const failure = new Error(`child exited with ${code}: ${stderr}`);
        ready.reject(failure);
        result.reject(failure);
      });
      return { child, ready: ready.promise, result: result.promise, exited: once(child, 'exit') };
    });

    try {
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.child.stdin.write('go\n');
      const results = await Promise.all(children.map((c) => c.result));
      await Promise.all(children.map((c) => c.exited));

      expect(endpoint.stats().tokenIssues).toBe(1);
      expect(results.map((r) => r.errors)).toEqual([[], [], [], []]);
      const tokens = new Set(results.flatMap((r) => r.tokens));
      expect(tokens.size).toBe(1);
      expect(results.reduce((n, r) => n + r.issueCalls, 0)).toBe(1);
    } finally {
      for (const c of children) if (c.child.exitCode === null) c.child.kill();
      await endpoint.close();
    }
  });

  it('a 6 s token used continuously past its lifetime is re-issued exactly once, and no call gets an expired token', async () => {
    const key = newKey();
    const issuer = countingIssuer(6_000);
    // Three "processes", ten callers each, all on the default 15 min margin: the quarter-lifetime cap applies.
    const caches = Array.from({ length: 3 }, () => tokenCache({ key, issue: issuer.issue }));
    const first = await caches[0]!.get();
    const firstExpiresAt = issuer.issued.get(first)!.expiresAt;
    const expiredUses: { token: string; usedAt: number; expiresAt: number }[] = [];
    let uses = 0;

    // Bounded by the first token's expiry plus a second: the refresh (at 3/4 of the lifetime) and the expiry both fall inside.
    await Promise.all(
      caches.flatMap((cache) =>
        Array.from({ length: 10 }, async () => {
          while (Date.now() < firstExpiresAt + 1_000) {
            const token = await cache.get();
            const usedAt = Date.now();
            const expiresAt = issuer.issued.get(token)!.expiresAt;
            uses += 1;
            if (usedAt >= expiresAt) expiredUses.push({ token, usedAt, expiresAt });
            await new Promise((r) => setTimeout(r, 10)); // pacing the workload, not waiting for an outcome
          }
        }),
      ),
    );

    expect(expiredUses).toEqual([]);
    expect(uses).toBeGreaterThan(100);
    expect(issuer.calls).toBe(2);
  });
});

describe('TokenCache.invalidate', () => {
  it('with the current token: the next get() issues a new one', async () => {
    const key = newKey();
    const issuer = countingIssuer();
    const cache = tokenCache({ key, issue: issuer.issue });
    const stale = await cache.get();

    await cache.invalidate(stale);

    expect(await redis.exists(key)).toBe(0);
    const fresh = await cache.get();
    expect(fresh).not.toBe(stale);
    expect(issuer.calls).toBe(2);
  });

  it('with an older token (a 401 seen late): the newer cached token is kept, in this process and in others', async () => {
    const key = newKey();
    const issuer = countingIssuer();
    const processA = tokenCache({ key, issue: issuer.issue });
    const processB = tokenCache({ key, issue: issuer.issue });
    const old = await processA.get();
    expect(await processB.get()).toBe(old);

    await processA.invalidate(old); // A saw a 401
    const newer = await processA.get();
    expect(newer).not.toBe(old);
    await processA.invalidate(old); // a second, late 401 for the old token in A
    await processB.invalidate(old); // B still held the old token in memory and now sees its 401

    expect(await processA.get()).toBe(newer);
    expect(await processB.get()).toBe(newer);
    expect(issuer.calls).toBe(2);
  });
});

describe('TokenCache when things go wrong', () => {
  it('a lock holder that died is replaced after lockTtlMs by a waiter, which issues once', async () => {
    const key = newKey();
    const issuer = countingIssuer();
    const lockHolders: (string | null)[] = [];
    const issue = async () => {
      lockHolders.push(await redis.get(`${key}:lock`));
      return issuer.issue();
    };
    // The dead process took the lock and will never release it.
    await redis.set(`${key}:lock`, 'dead-process', 'PX', 1_000);
    const caches = [tokenCache({ key, issue, lockTtlMs: 1_000 }), tokenCache({ key, issue, lockTtlMs: 1_000 })];

    const tokens = await Promise.all(caches.flatMap((cache) => Array.from({ length: 20 }, () => cache.get())));

    expect(new Set(tokens).size).toBe(1);
    expect(issuer.calls).toBe(1);
    expect(lockHolders).toHaveLength(1);
    expect(lockHolders[0]).not.toBe('dead-process');
    expect(lockHolders[0]).not.toBeNull();
  });

  it('a waiter gives up with TokenWaitTimeoutError after waitTimeoutMs and never issues', async () => {
    const key = newKey();
    const issuer = countingIssuer();
    await redis.set(`${key}:lock`, 'slow-process', 'PX', 60_000);
    const cache = tokenCache({ key, issue: issuer.issue, waitTimeoutMs: 300 });

    const results = await Promise.allSettled(Array.from({ length: 5 }, () => cache.get()));

    for (const r of results) expect(r.status === 'rejected' && r.reason instanceof TokenWaitTimeoutError).toBe(true);
    expect(issuer.calls).toBe(0);
    await redis.del(`${key}:lock`);
  });

  it('issue() failing rejects every concurrent caller with that error, in every process, and a later get() tries again', async () => {
    const key = newKey();
    const issuer = countingIssuer();
    const otherIssuer = countingIssuer();
    const capture = captureLogger();
    const issueStarted = deferred();
    const processA = tokenCache({
      key,
      issue: () => {
        issueStarted.resolve();
        return issuer.issue();
      },
    });
    const processB = tokenCache({ key, issue: otherIssuer.issue, logger: capture.logger });
    const failure = Object.assign(new Error('idp answered 503'), { retryable: true });
    const release = deferred();
    issuer.failNextWith(failure);
    issuer.holdUntil(release.promise);

    const inA = Array.from({ length: 50 }, () => processA.get());
    // A holds the lock once its issue() runs; B's callers then wait on it.
    await issueStarted.promise;
    const inB = Array.from({ length: 20 }, () => processB.get());
    await capture.waitFor((l) => l.msg.includes('waiting'));
    release.resolve();

    const settledA = await Promise.allSettled(inA);
    const settledB = await Promise.allSettled(inB);
    for (const r of settledA) expect(r).toEqual({ status: 'rejected', reason: failure });
    for (const r of settledB) {
      expect(r.status).toBe('rejected');
      const reason = (r as PromiseRejectedResult).reason as TokenIssueError;
      expect(reason).toBeInstanceOf(TokenIssueError);
      expect(reason.message).toContain('idp answered 503');
      expect(reason.retryable).toBe(true);
    }
    expect(issuer.calls).toBe(1);
    expect(otherIssuer.calls).toBe(0);

    // The failure is not cached: the next call in either process tries again.
    issuer.failNextWith(undefined);
    issuer.holdUntil(undefined);
    otherIssuer.holdUntil(undefined);
    const [fromB, fromA] = await Promise.all([processB.get(), processA.get()]);
    expect(fromA).toBe(fromB);
    expect(issuer.calls + otherIssuer.calls).toBe(2);
    expect(issuer.count + otherIssuer.count).toBe(1);
  });
});
