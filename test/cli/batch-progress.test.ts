import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/app.js';
import { followBatch } from '../../src/cli/batch-progress.js';
import { batchRead, startFreezableLink, type FreezableLink } from '../helpers/frozen-link.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * `import --wait` follows its batch through an outage that began before its first read
 * (docs/resilience.md): the race a busy machine met, when Redis went between the enqueue and
 * the following. The follower reads through a link that holds its first read of the batch and
 * then drops the connection and refuses new ones, as a dead Redis does; the shared Redis
 * itself stays up, and the test and the workers reach it directly.
 */
let t: TestPipeline;
let link: FreezableLink;
/** The follower's app: `import`'s temperament (fail-fast), through the link. */
let follower: App;
let reconnects = 0;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'batch-progress' });
  link = await startFreezableLink();
  follower = await App.open({ ...t.config, REDIS_URL: link.url }, { logger: t.logger });
  follower.redis.on('reconnecting', () => reconnects++);
});
afterEach(() => link.restore().catch(() => undefined));
afterAll(async () => {
  await follower?.close();
  await link?.close();
  await t?.close();
});

const sink = () =>
  new Writable({
    write(_chunk, _enc, done) {
      done();
    },
  });

/** Holds the follower's first read of a batch, cuts the link, and returns once a reconnect was refused. */
async function cutWithFirstReadInFlight(): Promise<void> {
  await link.untilFrozen();
  const before = reconnects;
  await link.cut();
  // ioredis sends a read again after a reconnect that got through; one refused is the outage that fails it.
  await until(async () => reconnects >= before + 2, 'the first reconnect to be refused');
}

describe('following a batch when Redis goes before its first read', () => {
  it('waits for Redis, then follows the batch to its end', async () => {
    const { batch } = await t.enqueue(sampleCustomers(3, 'FirstRead'));
    link.freezeOn(batchRead(t.prefix));
    const following = followBatch({ store: follower.store, batchId: batch.id, out: sink(), pollMs: 50 });
    // Settled now, read at the end: a rejection is the outcome to report, not an unhandled one.
    const outcome = following.catch((err: unknown) => err);
    await cutWithFirstReadInFlight();
    await link.restore();
    await t.startWorkers();
    expect(await outcome).toMatchObject({ interrupted: false, batch: { id: batch.id, done: 3, ended: true } });
  });

  it('a stop signal while it waits ends the following at once (the batch goes on)', async () => {
    const { batch } = await t.enqueue(sampleCustomers(1, 'Stopped'));
    link.freezeOn(batchRead(t.prefix));
    const stop = new AbortController();
    const following = followBatch({ store: follower.store, batchId: batch.id, out: sink(), signal: stop.signal });
    const outcome = following.catch((err: unknown) => err);
    await cutWithFirstReadInFlight();
    stop.abort();
    expect(await outcome).toEqual({ interrupted: true });
  });
});
