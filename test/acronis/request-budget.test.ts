import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAcronisClient } from '../../src/acronis/client.js';
import { RequestBudget, type RequestBudgetOptions } from '../../src/acronis/request-budget.js';
import { createSecretBox, generateSecretsKey } from '../../src/secrets/secret-box.js';
import { RedisKeys } from '../../src/redis/keys.js';
import { budgetKeys, connectRedis, removeKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startTestSimulator } from '../helpers/simulator.js';

const prefix = uniquePrefix('request-budget');
/** Every budget gets its own connection, as a separate worker process would. */
const connections: Redis[] = [];
let redis: Redis;

beforeAll(() => {
  redis = connectRedis();
});

afterAll(async () => {
  await removeKeys(redis, prefix);
  await Promise.all([redis, ...connections].map((c) => c.quit()));
});

const newKey = () => `${prefix}:acronis:budget:${randomUUID().slice(0, 8)}`;

function connection(): Redis {
  const c = connectRedis();
  connections.push(c);
  return c;
}

function budget({ key, ...opts }: Omit<RequestBudgetOptions, 'redis' | 'keys'> & { key: string }): RequestBudget {
  return new RequestBudget({ redis: connection(), keys: budgetKeys(key), ...opts });
}

/** Grant times (Redis µs) still in the window, oldest first. */
async function grantTimes(key: string): Promise<number[]> {
  const flat = await redis.zrange(key, 0, -1, 'WITHSCORES');
  return flat.filter((_, i) => i % 2 === 1).map(Number);
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

describe('RequestBudget against the simulator', () => {
  it('2 processes + 2 in-process budgets, 60 concurrent getTenant at 10/s: all succeed, the server never sees more than 10 in a second', async () => {
    // The simulator enforces the same limit, so a breach also shows up as failed calls (429).
    const sim = await startTestSimulator({ rateLimit: 10 });
    const key = newKey();
    const secretsKey = generateSecretsKey();
    const keyPrefix = `${prefix}:load`;
    const perProcess = 15;
    const fixture = fileURLToPath(new URL('../fixtures/request-budget-process.ts', import.meta.url));
    const options = JSON.stringify({
      redisUrl: TEST_REDIS_URL,
      budgetKey: key,
      perSecond: 10,
      secretsKey,
      keyPrefix,
      baseUrl: sim.url,
      clientId: sim.seed.clientId,
      clientSecret: sim.seed.clientSecret,
      partnerTenantId: sim.seed.partnerTenantId,
      calls: perProcess,
    });

    const children = Array.from({ length: 2 }, () => {
      const child = spawn(process.execPath, ['--import', 'tsx', fixture, options], { stdio: ['pipe', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const lines = createInterface({ input: child.stdout });
      const ready = deferred();
      const result = deferred<{ ok: number; errors: string[] }>();
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
    const box = createSecretBox(secretsKey);
    const inProcess = Array.from({ length: 2 }, () => {
      const own = connection();
      return createAcronisClient({
        baseUrl: sim.url,
        clientId: sim.seed.clientId,
        clientSecret: sim.seed.clientSecret,
        redis: own,
        box,
        tokenKeys: new RedisKeys(keyPrefix).tokenCache(sim.url, sim.seed.clientId),
        timeoutMs: 5_000,
        throttle: new RequestBudget({ redis: own, keys: budgetKeys(key), perSecond: 10 }),
      });
    });

    try {
      await Promise.all(children.map((c) => c.ready));
      sim.resetStats();
      for (const c of children) c.child.stdin.write('go\n');
      const local = await Promise.allSettled(
        inProcess.flatMap((acronis) =>
          Array.from({ length: perProcess }, () => acronis.getTenant(sim.seed.partnerTenantId)),
        ),
      );
      const remote = await Promise.all(children.map((c) => c.result));
      await Promise.all(children.map((c) => c.exited));

      const stats = sim.stats();
      expect(stats.maxRequestsPerSecond).toBeLessThanOrEqual(10);
      expect(local.filter((s) => s.status === 'rejected')).toEqual([]);
      expect(remote.map((r) => r.errors)).toEqual([[], []]);
      expect(remote.map((r) => r.ok)).toEqual([perProcess, perProcess]);
      const tenantReads = Object.entries(stats.byEndpoint)
        .filter(([endpoint]) => endpoint.startsWith('GET /tenants/'))
        .reduce((n, [, byStatus]) => n + (byStatus['200'] ?? 0), 0);
      expect(tenantReads).toBe(4 * perProcess);
      // The window log holds at most one window's grants.
      expect(await redis.zcard(key)).toBeLessThanOrEqual(10);
    } finally {
      for (const c of children) if (c.child.exitCode === null) c.child.kill();
      await sim.close();
    }
  });
});

describe('RequestBudget.pause', () => {
  it('a pause set by one process holds back acquire in another until it ends; it is capped and never shortened', async () => {
    const key = newKey();
    const seer = budget({ key, perSecond: 10, maxPauseMs: 1_500 });
    const other = budget({ key, perSecond: 10, maxPauseMs: 1_500 });

    // A Retry-After of an hour is capped.
    expect(await seer.pause(3_600_000)).toBe(1_500);
    const pausedUntilMs = Number(await redis.get(`${key}:paused`));
    const remaining = await other.pausedForMs();
    expect(remaining).toBeGreaterThan(0);
    expect(remaining).toBeLessThanOrEqual(1_500);
    // A shorter pause from elsewhere leaves the later end in place.
    expect(await other.pause(50)).toBeGreaterThan(50);
    expect(Number(await redis.get(`${key}:paused`))).toBe(pausedUntilMs);

    await other.acquire();

    const [grantedAt] = await grantTimes(key);
    expect(grantedAt).toBeGreaterThanOrEqual(pausedUntilMs * 1000);
    expect(await other.pausedForMs()).toBe(0);
    expect(await redis.exists(`${key}:paused`)).toBe(0);
  });
});

describe('RequestBudget.acquire', () => {
  it('rejects with the signal reason when aborted while waiting, and the caller behind it still gets its slot', async () => {
    const key = newKey();
    const throttle = budget({ key, perSecond: 1 });
    await throttle.acquire();

    const controller = new AbortController();
    const reason = new Error('job cancelled');
    const aborted = throttle.acquire(controller.signal);
    const behind = throttle.acquire();
    controller.abort(reason);

    await expect(aborted).rejects.toBe(reason);
    await expect(behind).resolves.toBeUndefined();
  });

  it('with an already aborted signal rejects at once and takes no slot', async () => {
    const key = newKey();
    const throttle = budget({ key, perSecond: 1 });
    const reason = new Error('shutting down');

    await expect(throttle.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(await redis.exists(key)).toBe(0);
  });

  it('a fractional rate (0.5/s) admits one request per 2 s window', async () => {
    const key = newKey();
    const [a, b] = [budget({ key, perSecond: 0.5 }), budget({ key, perSecond: 0.5 })];
    expect(a.maxPerWindow).toBe(1);
    expect(a.windowMs).toBeGreaterThanOrEqual(2_000);

    await a.acquire();
    const [first] = await grantTimes(key);
    await b.acquire();
    const [second] = await grantTimes(key);

    expect(second! - first!).toBeGreaterThanOrEqual(a.windowMs * 1000);
  });

  it('spaces grants evenly, so no window of grants leaves in one burst', async () => {
    const key = newKey();
    const paced = budget({ key, perSecond: 20 });
    await Promise.all(Array.from({ length: 6 }, () => paced.acquire()));
    const times = (await grantTimes(key)).sort((x, y) => x - y);
    const gapMicros = (paced.windowMs * 1000) / paced.maxPerWindow;
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(gapMicros);
  });

  it('keeps no more than a second of grants for perSecond 1000, and the log expires once nobody sends', async () => {
    const key = newKey();
    const budgets = Array.from({ length: 3 }, () => budget({ key, perSecond: 1000 }));

    const results = await Promise.allSettled(budgets.flatMap((b) => Array.from({ length: 500 }, () => b.acquire())));

    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    const grants = await grantTimes(key);
    expect(grants.length).toBeLessThanOrEqual(1000);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(budgets[0]!.windowMs);
    await vi.waitFor(async () => expect(await redis.exists(key)).toBe(0), { timeout: 5_000, interval: 100 });
  });
});

describe('RequestBudget options', () => {
  it.each([
    { perSecond: 0.5, maxPerWindow: 1, periodMs: 2_000 },
    { perSecond: 2.5, maxPerWindow: 2, periodMs: 1_000 },
    { perSecond: 10, maxPerWindow: 10, periodMs: 1_000 },
    { perSecond: 1000, maxPerWindow: 1000, periodMs: 1_000 },
  ])(
    'perSecond $perSecond: $maxPerWindow per window a little over $periodMs ms',
    ({ perSecond, maxPerWindow, periodMs }) => {
      const b = new RequestBudget({ redis, keys: budgetKeys(newKey()), perSecond });
      expect(b.maxPerWindow).toBe(maxPerWindow);
      expect(b.windowMs).toBeGreaterThan(periodMs);
    },
  );

  it('refuses a rate that is not positive', () => {
    expect(() => new RequestBudget({ redis, keys: budgetKeys(newKey()), perSecond: 0 })).toThrow(RangeError);
  });
});
