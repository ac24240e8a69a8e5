import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { batchEnded, type ActionRecord } from '../../src/workers/action-store.js';
import { askFor, expectAppliedOnce, queueDrained, tenantVersions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { startPrivateRedis, whileRedisMayBeDown, type PrivateRedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

// Redis is killed here, so this file runs on a private redis-server, never the shared 6379.
let redis: PrivateRedisServer;
let t: TestPipeline;
const customers = sampleCustomers(16, 'ActRestart');
const keys = customers.map(customerKeyOf);
const suspended = keys.slice(0, 10);
const offboarded = keys.slice(10);

beforeAll(async () => {
  redis = await startPrivateRedis();
  t = await startTestPipeline({
    label: 'act-restart',
    env: {
      REDIS_URL: redis.url,
      // A low budget, so the actions take seconds and Redis dies in the middle of them.
      ACRONIS_RATE_LIMIT: '8',
      // Shorter than the outage below: every in-flight step's lock expires and its job runs
      // again as stalled after the restart, after its write may have reached the API.
      JOB_LOCK_MS: '4000',
    },
    sim: { latencyMs: 20 },
  });
  await t.startWorkers();
});
afterAll(async () => {
  // close() removes the keys through the private server, so it must be up even if a test stopped mid-restart.
  await redis?.start().catch(() => undefined);
  await t?.close();
  await redis?.destroy();
});

describe('Redis killed in the middle of actions and started again', () => {
  it('SIGKILL with AOF: every action ends, each applied once (one disable per tenant, one deletion)', async () => {
    const { batch } = await t.enqueue(customers);
    expect(await t.waitForBatch(batch.id, 90_000)).toMatchObject({ done: 16 });
    const before = tenantVersions(t, keys);

    const suspend = await askFor(t, 'suspend', suspended);
    const offboard = await askFor(t, 'offboard', offboarded, { graceMs: 0 });
    const all = async (): Promise<ActionRecord[] | undefined> =>
      whileRedisMayBeDown(async () => [
        ...(await t.pipeline.actions.batchActions(suspend.batchId)),
        ...(await t.pipeline.actions.batchActions(offboard.batchId)),
      ]);
    const ended = (a: ActionRecord) => ['done', 'deleted'].includes(a.state);
    await until(async () => ((await all())?.filter(ended).length ?? 0) >= 3, 'a few actions ended');
    expect(batchEnded((await all()) ?? []), 'every action ended before Redis could be killed').toBe(false);

    await redis.kill();
    // The one deliberate wait: Redis stays down, longer than the job locks, while steps are in flight.
    await sleep(6000);
    await redis.start();
    await until(async () => (await whileRedisMayBeDown(() => t.pipeline.redis.ping())) === 'PONG', 'reconnected');

    await until(
      async () => {
        const actions = await all();
        return actions !== undefined && actions.length === keys.length && batchEnded(actions);
      },
      'every action to end after the restart',
      90_000,
    );
    await queueDrained(t);
    const actions = (await all())!;
    expect(actions.map((a) => `${a.customerKey} ${a.state}`)).toEqual([
      ...suspended.map((key) => `${key} done`),
      ...offboarded.map((key) => `${key} deleted`),
    ]);

    await expectAppliedOnce(t, before, { suspended, offboarded });
  });
});
