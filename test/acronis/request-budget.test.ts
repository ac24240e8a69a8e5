import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CallMetrics, readCallMetrics } from '../../src/acronis/call-metrics.js';
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
  it('2 processes + 2 in-process budgets, 60 concurrent getTenant at 10/s: all succeed, the server never sees more than 30 in any 3 s', async () => {
    // The simulator enforces the same limit, so a breach also shows up as failed calls (429).
    const sim = await startTestSimulator({ rateLimit: 10 });
    const key = newKey();
    const secretsKey = generateSecretsKey();
    const keyPrefix = `${prefix}:load`;
    const perProcess = 15;
    const fixture = fileURLToPath(new URL('../fixtures/request-budget-process.ts', import.meta.url));
    // On a test machine loaded by other suites the simulator, one of four processes here, reads
    // arrivals tens of ms late and so bunches them; this margin absorbs that. The default margin
    // is measured on a quiet machine (BENCHMARKS.md "Onboarding at the API's limit").
    const margin = 0.1;
    const options = JSON.stringify({
      redisUrl: TEST_REDIS_URL,
      budgetKey: key,
      perSecond: 10,
      margin,
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
        tokenKeys: new RedisKeys(keyPrefix).tokenCache(sim.url, sim.seed.clientId, sim.seed.clientSecret),
        timeoutMs: 5_000,
        throttle: new RequestBudget({ redis: own, keys: budgetKeys(key), perSecond: 10, margin }),
      });
    });

    try {
      await Promise.all([
        ...children.map((c) => c.ready),
        ...inProcess.map((c) => c.getTenant(sim.seed.partnerTenantId)),
      ]);
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
      expect(stats.maxRequestsPer3Seconds).toBeLessThanOrEqual(30);
      expect(local.filter((s) => s.status === 'rejected')).toEqual([]);
      expect(remote.map((r) => r.errors)).toEqual([[], []]);
      expect(remote.map((r) => r.ok)).toEqual([perProcess, perProcess]);
      const tenantReads = Object.entries(stats.byEndpoint)
        .filter(([endpoint]) => endpoint.startsWith('GET /tenants/'))
        .reduce((n, [, byStatus]) => n + (byStatus['200'] ?? 0), 0);
      expect(tenantReads).toBe(4 * perProcess);
      // The schedule is one small hash that expires once nobody sends.
      expect(await redis.type(key)).toBe('hash');
      expect(await redis.pttl(key)).toBeGreaterThan(0);
    } finally {
      for (const c of children) if (c.child.exitCode === null) c.child.kill();
      await sim.close();
    }
  });
});

/** Least gap between two slots at the budget's normal rate, in Redis µs. */
const gapOf = (b: RequestBudget) => 1e6 / b.ratePerSecond;

describe('RequestBudget.acquire', () => {
  it('spaces slots evenly across processes, so no second of grants leaves in one burst', async () => {
    const key = newKey();
    const budgets = Array.from({ length: 3 }, () => budget({ key, perSecond: 20 }));
    const slots = (await Promise.all(budgets.flatMap((b) => Array.from({ length: 4 }, () => b.acquire())))).sort(
      (x, y) => x - y,
    );
    for (let i = 1; i < slots.length; i++) {
      expect(slots[i]! - slots[i - 1]!).toBeGreaterThanOrEqual(gapOf(budgets[0]!) - 1);
    }
  });

  it('1500 concurrent callers in 3 processes at 1000/s: every one gets its own slot, none closer than the gap', async () => {
    const key = newKey();
    const budgets = Array.from({ length: 3 }, () => budget({ key, perSecond: 1000 }));
    const slots = await Promise.all(budgets.flatMap((b) => Array.from({ length: 500 }, () => b.acquire())));
    const sorted = [...slots].sort((x, y) => x - y);
    expect(new Set(sorted).size).toBe(1500);
    const closest = Math.min(...sorted.slice(1).map((slot, i) => slot - sorted[i]!));
    expect(closest).toBeGreaterThanOrEqual(gapOf(budgets[0]!) - 1);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
  });

  it('a fractional rate (0.5/s) grants one request per 2 s and a little more', async () => {
    const key = newKey();
    const [a, b] = [budget({ key, perSecond: 0.5 }), budget({ key, perSecond: 0.5 })];
    const first = await a.acquire();
    const second = await b.acquire();
    expect(second - first).toBeGreaterThanOrEqual(2_000_000);
  });

  it('rejects with the signal reason when aborted while waiting, and the caller behind it still gets its slot', async () => {
    const key = newKey();
    const throttle = budget({ key, perSecond: 2 });
    await throttle.acquire();

    const controller = new AbortController();
    const reason = new Error('job cancelled');
    const aborted = throttle.acquire(controller.signal);
    const behind = throttle.acquire();
    controller.abort(reason);

    await expect(aborted).rejects.toBe(reason);
    await expect(behind).resolves.toBeGreaterThan(0);
  });

  it('a better-ranked caller takes over the earliest slot reserved for a worse-ranked one, which goes back in line', async () => {
    const key = newKey();
    // One request a second; at a rate this low the process reserves one slot ahead. No slot is
    // given up for a timer firing late on a loaded machine (lateness is not what this is about).
    const throttle = budget({ key, perSecond: 1, maxLateMs: 60_000 });
    expect(throttle.ahead).toBe(1);
    await throttle.acquire();
    const order: string[] = [];
    const slots: Record<string, number> = {};
    const asleep = deferred();
    const ask = (name: string, rank: number, beforeWait?: () => Promise<void>) =>
      throttle.acquire(undefined, undefined, { rank, ...(beforeWait ? { beforeWait } : {}) }).then((slot) => {
        order.push(name);
        slots[name] = slot;
      });
    // Three first steps: the first holds the next slot (its beforeWait ran), two wait in line.
    const firstSteps = [ask('first-a', 6, async () => asleep.resolve()), ask('first-b', 6), ask('first-c', 6)];
    await asleep.promise;
    await new Promise(setImmediate);
    // A chain's last step arrives: it sends in first-a's slot, not after the three.
    const lastStep = ask('last', 1);
    await Promise.all([...firstSteps, lastStep]);
    // first-a, displaced, is served next, keeping its place in line ahead of the two behind it.
    expect(order).toEqual(['last', 'first-a', 'first-b', 'first-c']);
    expect(slots.last!).toBeLessThan(slots['first-a']!);
  });

  it('a better-ranked caller in one process waits behind one slot another process reserved for worse ranks, not several', async () => {
    const key = newKey();
    // Two processes at 2 requests a second. The first has three first steps to send; the second
    // then gets a chain's last step. Each process reserving two slots ahead (as it did at every
    // rate), the last step waited behind both of the first process's, a customer's next step
    // behind every slot other processes had reserved (BENCHMARKS.md "First customer at 10/s").
    // A timer firing late on a loaded machine would give first-a's slot up (lateness is not what
    // this is about): no slot here is given up for lateness.
    const busy = budget({ key, perSecond: 2, maxLateMs: 60_000 });
    const other = budget({ key, perSecond: 2, maxLateMs: 60_000 });
    await busy.acquire();
    const order: string[] = [];
    const asleep = deferred();
    const ask = (b: RequestBudget, name: string, rank: number, beforeWait?: () => Promise<void>) =>
      b.acquire(undefined, undefined, { rank, ...(beforeWait ? { beforeWait } : {}) }).then(() => order.push(name));
    const firstSteps = [
      ask(busy, 'first-a', 6, async () => asleep.resolve()),
      ask(busy, 'first-b', 6),
      ask(busy, 'first-c', 6),
    ];
    await asleep.promise;
    // A process sends its reservations for the callers in line at once, on its own connection: a
    // command sent after them there answers after theirs, so a second reservation, had the
    // process asked for one, is in the schedule before the last step asks.
    await busy.state();
    const lastStep = ask(other, 'last', 1);
    await Promise.all([...firstSteps, lastStep]);
    expect(order).toEqual(['first-a', 'last', 'first-b', 'first-c']);
  });

  it('with an already aborted signal rejects at once and reserves nothing', async () => {
    const key = newKey();
    const throttle = budget({ key, perSecond: 1 });
    const reason = new Error('shutting down');

    await expect(throttle.acquire(AbortSignal.abort(reason))).rejects.toBe(reason);
    expect(await redis.exists(key)).toBe(0);
  });
});

describe('RequestBudget.sent (a request on the wire)', () => {
  it('a request written late before one with a later slot written on time takes the next free slot out of the schedule, in every process', async () => {
    const key = newKey();
    // Two requests a second (slots 526 ms apart); late means 300 ms later than the other request.
    const late = budget({ key, perSecond: 2, maxLateMs: 300 });
    const other = budget({ key, perSecond: 2, maxLateMs: 300 });
    const first = (await late.acquire()) as number;
    const second = (await late.acquire()) as number;
    // The second goes out on time; the first, whose connection took 526 ms, only now.
    expect(late.sent(second)).toBe(0);
    expect(late.sent(first)).toBe(1);
    expect(late.lateSends).toBe(1);
    // The other process would have had the slot one gap after the second; that one went to nobody.
    const next = (await other.acquire()) as number;
    expect(next - second).toBeGreaterThanOrEqual(2 * gapOf(late) - 1000);
    // The grants a 429 is judged by hold what was sent, not the slot taken out.
    expect(await redis.zcard(budgetKeys(key).grants)).toBe(3);
  });

  it('lateness every request shares (an API that closes every connection) takes nothing out', async () => {
    const key = newKey();
    // Ten requests a second (slots 105 ms apart); late means 400 ms later than the other request.
    const budgetOfSlowConnections = budget({ key, perSecond: 10, maxLateMs: 400 });
    const slots = [(await budgetOfSlowConnections.acquire()) as number];
    slots.push((await budgetOfSlowConnections.acquire()) as number);
    // Both leave 500 ms after the second's slot: 605 and 500 ms after their own, late alike.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(slots.map((slot) => budgetOfSlowConnections.sent(slot))).toEqual([0, 0]);
    expect(budgetOfSlowConnections.lateSends).toBe(0);
  });

  it("a worker's client tells its budget when each request is written: one held up behind a slow connection is counted for /metrics", async () => {
    const key = newKey();
    const budgetOfWorker = budget({ key, perSecond: 20, maxLateMs: 100 });
    const metricsKeys = new RedisKeys(`${prefix}:sent`).metrics;
    const metrics = new CallMetrics({ redis, keys: metricsKeys });
    const counted = metrics.countingGrants(budgetOfWorker);
    const sim = await startTestSimulator();
    try {
      let acquired = 0;
      let holdUpNext = false;
      const client = createAcronisClient({
        baseUrl: sim.url,
        clientId: sim.seed.clientId,
        clientSecret: sim.seed.clientSecret,
        redis,
        box: createSecretBox(generateSecretsKey()),
        tokenKeys: new RedisKeys(`${prefix}:sent`).tokenCache(sim.url, sim.seed.clientId, sim.seed.clientSecret),
        throttle: {
          // The worker's wrapping, and for the first of a pair a 400 ms wait between the slot and
          // the request, as a new connection's handshake would make.
          acquire: async (signal, request) => {
            const slot = await counted.acquire(signal, request);
            acquired++;
            if (holdUpNext) {
              holdUpNext = false;
              await new Promise((resolve) => setTimeout(resolve, 400));
            }
            return slot;
          },
          sent: (slot) => counted.sent?.(slot),
        },
      });
      // The access token and a first call, on time.
      await client.getTenant(sim.seed.partnerTenantId);
      const before = acquired;
      holdUpNext = true;
      await Promise.all([client.getTenant(sim.seed.partnerTenantId), client.getTenant(sim.seed.partnerTenantId)]);
      expect(acquired).toBe(before + 2);
      expect(budgetOfWorker.lateSends).toBe(1);
      await metrics.flush();
      expect((await readCallMetrics(redis, metricsKeys)).lateSends).toBe(1);
      expect(await redis.zcard(budgetKeys(key).grants)).toBe(acquired);
    } finally {
      await sim.close();
    }
  });
});

/** 12 grants at 20/s, then `refusals` 429s answered at once: what an API at its limit answers. */
/** 12 grants, the last `refusals` of them answered 429: each refusal carries its send time, as the transport passes it. */
async function refusedAfterGrants(b: RequestBudget, refusals: number, retryAfterMs?: number) {
  const sent: number[] = [];
  for (let i = 0; i < 12; i++) sent.push((await b.acquire()) as number);
  return Promise.all(sent.slice(-refusals).map((slot) => b.refused(retryAfterMs, slot)));
}

describe('RequestBudget.refused (a 429)', () => {
  it('a lone 429 is noise: nothing shared changes, nobody else waits', async () => {
    const key = newKey();
    const [a, b] = [budget({ key, perSecond: 20 }), budget({ key, perSecond: 20 })];
    const [outcome] = await refusedAfterGrants(a, 1, 1_000);
    expect(outcome).toMatchObject({ kind: 'noise', pauseMs: 0 });
    expect(await b.state()).toMatchObject({ ratePerSecond: b.ratePerSecond, pausedForMs: 0, generation: 0 });
  });

  it('a burst of 429s is a limit: every process gets the rate cut to what the API accepted, and waits out Retry-After (capped)', async () => {
    const key = newKey();
    const [a, b] = [
      budget({ key, perSecond: 20, maxPauseMs: 1_500 }),
      budget({ key, perSecond: 20, maxPauseMs: 1_500 }),
    ];
    const outcomes = await refusedAfterGrants(a, 4, 3_600_000);
    expect(outcomes.some((o) => o.kind === 'limit')).toBe(true);
    const seen = await b.state();
    // The grants up to the first refused one, less it (8), fewer if a grant left the second on a slow machine.
    expect(seen.foundPerSecond).toBeGreaterThan(0);
    expect(seen.foundPerSecond).toBeLessThanOrEqual(8);
    expect(seen.ratePerSecond).toBeCloseTo(Math.max(seen.foundPerSecond * 0.95, b.ratePerSecond * 0.1), 6);
    // A deep cut: the schedule moves past the answer's Retry-After, capped, for everyone (the
    // generation grew twice: the third 429 spaced the sends out, the fourth paused them).
    expect(seen.generation).toBe(2);
    expect(seen.pausedForMs).toBeGreaterThan(0);
    expect(seen.pausedForMs).toBeLessThanOrEqual(1_500);
    const pausedUntil = Number(await redis.hget(key, 'paused_until'));
    expect(await b.acquire()).toBeGreaterThanOrEqual(pausedUntil);
  });

  it('one decision per burst: the 429s answered while it settles are noise, the rate is cut once', async () => {
    const key = newKey();
    const a = budget({ key, perSecond: 20 });
    await refusedAfterGrants(a, 4, 10);
    const decided = await a.state();
    const later = await Promise.all([a.refused(10), a.refused(10), a.refused(10), a.refused(10)]);
    expect(later.every((o) => o.kind === 'noise')).toBe(true);
    expect((await a.state()).foundPerSecond).toBe(decided.foundPerSecond);
    expect(Number(await redis.hget(key, 'epoch'))).toBe(1);
  });

  it('a burst is judged at the send times of its refused requests: what left after the first of them is not counted as accepted', async () => {
    const key = newKey();
    const a = budget({ key, perSecond: 20 });
    const sent: number[] = [];
    for (let i = 0; i < 12; i++) sent.push((await a.acquire()) as number);
    sent.sort((x, y) => x - y);
    // The API admitted six, refused the next four, and their answers are judged only now, after
    // the last two left too: the limit is what it had admitted when it refused the first.
    const outcomes = [];
    for (const slot of sent.slice(6, 10)) outcomes.push(await a.refused(1_000, slot));
    expect(outcomes.at(-1)).toMatchObject({ kind: 'limit' });
    expect((await a.state()).foundPerSecond).toBe(6);
    // Stored at those send times, not at the answers'.
    const scores = (await redis.zrange(budgetKeys(key).refusals, 0, -1, 'WITHSCORES')).filter((_, i) => i % 2 === 1);
    expect(scores.map(Number)).toEqual(sent.slice(6, 10));
  });

  it('4 budgets on a stalled event loop: the late slots they gave up are not counted as accepted, so the limit found is at most what was sent', async () => {
    const key = newKey();
    // 100/s: each budget reserves 5 slots ahead, 20 in all for the stall to make late.
    const budgets = Array.from({ length: 4 }, () => budget({ key, perSecond: 100 }));
    const sent: number[] = [];
    const send = (b: RequestBudget) => b.acquire().then((slot) => void sent.push(slot));
    const first = send(budgets[0]!);
    const rest = budgets.flatMap((b) => Array.from({ length: 10 }, () => send(b)));
    await first;
    // A busy event loop (a loaded host): every slot held now wakes too late, is given up and reserved again.
    const until = performance.now() + 150;
    while (performance.now() < until);
    await Promise.all(rest);
    expect(budgets.reduce((n, b) => n + b.lateSlots, 0)).toBeGreaterThanOrEqual(5);
    // The API refuses the next four: a limit, judged on what it accepted in its last second.
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => budgets[1]!.refused(10)));
    expect(outcomes.some((o) => o.kind === 'limit')).toBe(true);
    const { foundPerSecond } = await budgets[2]!.state();
    expect(foundPerSecond).toBeGreaterThan(0);
    expect(foundPerSecond).toBeLessThanOrEqual(sent.length);
  });

  it('voids the slots reserved before a pause: a waiting caller sends after it, not at its old slot', async () => {
    const key = newKey();
    // A floor of half the rate, so the slot after the cut is not far off. Two slots ahead (the
    // default at 20/s and more), so A, which does not follow the decisions, reserves again.
    const opts = { key, perSecond: 2, floor: 0.5, ahead: 2 };
    const [inA, inB] = [budget(opts), budget(opts)];
    await inA.acquire();
    // A's second caller waits half a second for its slot…
    const waiting = inA.acquire();
    // …while B meets a limit (a burst of 429s), and A learns of it with its next reservation.
    await Promise.all(Array.from({ length: 4 }, () => inB.refused(1_500)));
    const pausedUntil = Number(await redis.hget(key, 'paused_until'));
    expect(pausedUntil).toBeGreaterThan(0);
    const [waited, after] = await Promise.all([waiting, inA.acquire()]);
    expect(waited).toBeGreaterThanOrEqual(pausedUntil);
    expect(after).toBeGreaterThanOrEqual(pausedUntil);
  });

  it('a process that follows the decisions hears of a pause at once: its slot reserved before it is void without a reservation of its own', async () => {
    const key = newKey();
    // 1/s: A's second slot is a second after its first, long for a published message to arrive.
    const [inA, inB] = [budget({ key, perSecond: 1, floor: 0.5 }), budget({ key, perSecond: 1, floor: 0.5 })];
    await inA.follow(connection());
    const first = await inA.acquire();
    // A's second caller holds the next slot, reserved before the pause, and sleeps; A has nothing else to reserve.
    const waiting = inA.acquire();
    await vi.waitFor(async () => expect(Number(await redis.hget(key, 'tat'))).toBeGreaterThan(first + 1_500_000));
    await Promise.all(Array.from({ length: 4 }, () => inB.refused(1_500)));
    const pausedUntil = Number(await redis.hget(key, 'paused_until'));
    expect(pausedUntil).toBeGreaterThan(0);
    // Without following, A would send at its old slot, inside the pause (the test above needs a reservation).
    expect(await waiting).toBeGreaterThanOrEqual(pausedUntil);
  });

  it('three 429s close together void every reserved slot and space the next sends 50 ms apart', async () => {
    const key = newKey();
    // Late slots are not given up here: the reserved send times themselves are what is checked.
    const b = budget({ key, perSecond: 100, maxLateMs: 5_000 });
    const sent: number[] = [];
    for (let i = 0; i < 8; i++) sent.push(await b.acquire());
    const outcomes = [];
    for (const slot of sent.slice(-3)) outcomes.push(await b.refused(1_000, slot));
    expect(outcomes.map((o) => o.why)).toEqual([
      'a scattered 429',
      'a scattered 429',
      'three 429s close together: the next sends are spaced out',
    ]);
    expect(outcomes.every((o) => o.kind === 'noise' && o.pauseMs === 0)).toBe(true);
    // Nothing shared changes but the generation (every reserved slot void) and the next sends' spacing.
    expect(await b.state()).toMatchObject({ generation: 1, pausedForMs: 0, ratePerSecond: b.ratePerSecond });
    const slots = (await Promise.all(Array.from({ length: 5 }, () => b.acquire()))).sort((x, y) => x - y);
    const gaps = slots.slice(1).map((slot, i) => slot - slots[i]!);
    // Three gaps of 50 ms (a fourth 429 is judged before the next request leaves), then the pace.
    expect(gaps.slice(0, 3)).toEqual([50_000, 50_000, 50_000]);
    expect(gaps[3]).toBeLessThan(20_000);
  });

  it("a probe's cut voids the slots reserved at the old rate without a pause: a caller asleep on one sends at the new rate", async () => {
    const key = newKey();
    // A floor of 0.38/s, so the rate a cut goes to is spaced 2.6 s.
    const [inA, inB] = [budget({ key, perSecond: 10, floor: 0.04 }), budget({ key, perSecond: 10, floor: 0.04 })];
    await inA.follow(connection());
    // Probing: climbing from 1/s (a limit found at 1.05/s less the margin) toward 1.16/s (the plan's fields, as request-budget-decide.lua writes them).
    const [seconds, micros] = await redis.time();
    const now = Number(seconds) * 1e6 + Number(micros);
    await redis.hset(key, {
      rate: '1',
      climb_from: String(now - 100_000),
      found: '1.05',
      probe_top: '1.16',
      probe_slope: '0.105',
      hold_ms: '15000',
      settled_at: '0',
      epoch: '0',
    });
    const first = await inA.acquire();
    // A's second caller holds the next slot, about 1 s on at the old rate (time for the decision to reach A), and sleeps.
    const waiting = inA.acquire();
    await vi.waitFor(async () => expect(Number(await redis.hget(key, 'tat'))).toBeGreaterThan(first + 1_500_000));
    const [s2, m2] = await redis.time();
    const decidedFrom = Number(s2) * 1e6 + Number(m2);
    expect(await inB.refused(1_000)).toMatchObject({
      kind: 'limit',
      why: 'a probe above the limit met it',
      pauseMs: 0,
    });
    expect(await inB.state()).toMatchObject({ pausedForMs: 0, generation: 1 });
    // Sent at its old slot it would meet the API's window still full of the probe's pace.
    expect(await waiting).toBeGreaterThanOrEqual(decidedFrom + 2_000_000);
  });

  it('after the hold, the cut rate climbs back to the configured one (no higher)', async () => {
    const key = newKey();
    // No hold and a fast climb, so the test waits on the state briefly.
    const throttle = budget({ key, perSecond: 20, holdMs: { first: 0, max: 0 }, fastClimb: 5 });
    await refusedAfterGrants(throttle, 4, 10);
    expect((await throttle.state()).ratePerSecond).toBeLessThan(throttle.ratePerSecond);
    await vi.waitFor(
      async () => {
        await throttle.acquire();
        expect((await throttle.state()).ratePerSecond).toBeCloseTo(throttle.ratePerSecond, 6);
      },
      { timeout: 10_000, interval: 50 },
    );
  });
});

describe('RequestBudget options', () => {
  it('grants perSecond less the margin, and climbs no higher than the ceiling less the margin', () => {
    const b = new RequestBudget({ redis, keys: budgetKeys(newKey()), perSecond: 100, margin: 0.05 });
    expect(b.ratePerSecond).toBeCloseTo(95, 9);
    expect(b.settings.ceiling).toBeCloseTo(95, 9);
    const higher = new RequestBudget({ redis, keys: budgetKeys(newKey()), perSecond: 100, ceiling: 200 });
    expect(higher.settings.ceiling).toBeCloseTo(190, 9);
    expect(new RequestBudget({ redis, keys: budgetKeys(newKey()), perSecond: 10 }).ratePerSecond).toBeLessThan(10);
  });

  it('refuses a rate that is not positive and a margin outside [0, 1)', () => {
    expect(() => new RequestBudget({ redis, keys: budgetKeys(newKey()), perSecond: 0 })).toThrow(RangeError);
    expect(() => new RequestBudget({ redis, keys: budgetKeys(newKey()), perSecond: 5, margin: 1 })).toThrow(RangeError);
  });
});
