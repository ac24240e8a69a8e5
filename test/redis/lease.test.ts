import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisConnection } from '../../src/redis/connection.js';
import { Lease, type LeaseHolder } from '../../src/redis/lease.js';
import { connectTestRedis, removeKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';

/**
 * The lease that makes a sweep one at a time across processes (src/redis/lease.ts): a second
 * holder is refused and told who holds it; the holder keeps it past its time to live by renewing
 * it; one that stopped renewing (a dead process) frees it after the time to live; a holder that
 * lost it is told, and never ends the next holder's.
 */
const prefix = uniquePrefix('lease');
let redis: RedisConnection;

beforeAll(() => {
  redis = connectTestRedis(TEST_REDIS_URL);
});

afterAll(async () => {
  await removeKeys(redis, prefix);
  redis.disconnect();
});

/** A piece of work that runs until the test lets it end. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
}

describe('the sweep lease', () => {
  it('lets one holder work at a time, names it to the other, and is free again once the work ends', async () => {
    const key = `${prefix}:one`;
    const first = new Lease({ redis, key, ttlMs: 5000 });
    const second = new Lease({ redis, key, ttlMs: 5000 });
    const work = gate();
    const running = first.run('scheduled', async () => {
      await work.opened;
      return 'first swept';
    });
    await until(async () => (await redis.exists(key)) === 1, 'the first holder to take the lease');
    const refused = await second.run('manual', async () => 'second swept');
    expect(refused.ran).toBe(false);
    const heldBy = (refused as { heldBy: LeaseHolder }).heldBy;
    expect(heldBy).toMatchObject({ purpose: 'scheduled', owner: expect.stringContaining(`:${process.pid}`) });
    work.open();
    expect(await running).toEqual({ ran: true, value: 'first swept' });
    expect(await redis.exists(key)).toBe(0);
    expect(await second.run('manual', async () => 'second swept')).toEqual({ ran: true, value: 'second swept' });
  });

  it('keeps the lease past its time to live while the holder works, by renewing it', async () => {
    const key = `${prefix}:renewed`;
    const lease = new Lease({ redis, key, ttlMs: 3000 });
    const work = gate();
    const running = lease.run('scheduled', () => work.opened);
    await until(async () => (await redis.exists(key)) === 1, 'the lease to be taken');
    const takenAt = Date.now();
    // Two whole times to live later, still held: each renewal pushed its end on.
    await until(async () => Date.now() - takenAt > 6000, 'two times to live to pass', 30_000);
    expect(await redis.exists(key)).toBe(1);
    expect((await new Lease({ redis, key, ttlMs: 3000 }).run('manual', async () => 0)).ran).toBe(false);
    work.open();
    await running;
  });

  it('frees a lease whose holder died after its time to live, and a holder that lost it is told and ends nobody else’s', async () => {
    const key = `${prefix}:dead`;
    // A process that took the lease and died: nothing renews it.
    const dead = JSON.stringify({ token: 'dead', owner: 'gone:1', purpose: 'scheduled', since: Date.now() });
    await redis.set(key, dead, 'PX', 400);
    const lost: LeaseHolder[] = [];
    const lease = new Lease({ redis, key, ttlMs: 900, onLost: (h) => lost.push(h) });
    await until(
      async () => (await lease.run('manual', async () => true)).ran,
      'the dead holder’s lease to expire',
      10_000,
    );

    const work = gate();
    const running = lease.run('scheduled', () => work.opened);
    await until(async () => (await redis.exists(key)) === 1, 'the lease to be taken');
    // Another takes it meanwhile (as after this process stood still past the time to live).
    const other = JSON.stringify({ token: 'other', owner: 'elsewhere:2', purpose: 'manual', since: Date.now() });
    await redis.set(key, other, 'PX', 60_000);
    await until(async () => lost.length === 1, 'the holder to be told it lost the lease', 10_000);
    work.open();
    await running;
    expect(await redis.get(key)).toBe(other);
  });
});
