import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { startPrivateRedis, whileRedisMayBeDown, type PrivateRedisServer } from '../helpers/redis-server.js';

// Redis is killed here, so this file runs on a private redis-server, never the shared 6379.
let redis: PrivateRedisServer;
let t: TestPipeline;

beforeAll(async () => {
  redis = await startPrivateRedis();
  t = await startTestPipeline({
    label: 'redis-restart',
    env: {
      REDIS_URL: redis.url,
      // 40/s and 20 ms per call: the batch takes a few seconds, time to kill Redis mid-way.
      ACRONIS_RATE_LIMIT: '40',
      // Shorter than the outage below: BullMQ cannot extend a lock while Redis is down, so
      // every in-flight step's lock expires and its job runs again as stalled after the
      // restart. A step that had already handed over to the next one must not repeat its
      // side effects (one activation e-mail per customer, not two).
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

describe('Redis killed mid-batch and started again', () => {
  it('SIGKILL with AOF: every customer is onboarded, each tenant, user and e-mail once', async () => {
    const customers = sampleCustomers(20, 'Restart');
    const { batch } = await t.enqueue(customers);
    const batchNow = () => whileRedisMayBeDown(() => t.pipeline.store.getBatch(batch.id));
    await until(async () => ((await batchNow())?.done ?? 0) >= 3, 'a few customers done', 30_000);
    expect(await batchNow(), 'the batch ended before Redis could be killed mid-way').toMatchObject({ ended: false });

    await redis.kill();
    expect(await batchNow(), 'Redis still answers after SIGKILL').toBeUndefined();
    // The one deliberate wait: Redis stays down, longer than the job locks, while workers are in the middle of steps.
    await sleep(6000);
    await redis.start();
    await until(
      async () => (await whileRedisMayBeDown(() => t.pipeline.redis.ping())) === 'PONG',
      'the producers to reconnect',
      10_000,
    );
    expect(
      await t.pipeline.store.getBatch(batch.id),
      'the batch is gone after the restart (AOF not reloaded?)',
    ).toMatchObject({ total: 20 });

    await until(async () => (await batchNow())?.ended === true, 'the batch to end after the restart', 40_000);
    // The last step job completes just after it marks its customer done: wait for the queue to drain too.
    const counts = () =>
      t.pipeline.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'waiting-children', 'failed');
    await until(
      async () => Object.values(await counts()).every((n) => n === 0),
      'no step job active, waiting, delayed or failed',
      10_000,
    );
    expect(await t.pipeline.store.getBatch(batch.id), redis.output()).toMatchObject({
      total: 20,
      done: 20,
      failed: 0,
      queued: 0,
      running: 0,
    });

    const state = t.sim.state();
    const onboarded = expectEachOnboardedOnce(state, customers);
    const unconfirmed: string[] = [];
    for (const [i, customer] of customers.entries()) {
      const { tenant, user } = onboarded[i]!;
      const record = await t.pipeline.store.getCustomer(customer.external_id!);
      expect(record, customer.name).toMatchObject({ state: 'done', facts: { tenantId: tenant.id, userId: user.id } });
      // A send whose answer the outage cut off (the job's lock expired before its result was
      // written) is re-run, finds its intent and says email-unconfirmed rather than send again.
      // Either way the admin got exactly one e-mail.
      expect(['email-sent', 'email-unconfirmed'], customer.name).toContain(record?.facts.activation);
      if (record?.facts.activation === 'email-unconfirmed') unconfirmed.push(customer.name);
      expect(user.activation_emails_sent, `${customer.name}: activation e-mails`).toBe(1);
    }
    // Only the steps in flight when Redis died can have lost their answer: at most one per worker slot.
    expect(unconfirmed.length, `unconfirmed: ${unconfirmed.join(', ')}`).toBeLessThanOrEqual(
      t.config.WORKER_CONCURRENCY,
    );
    // No step ran twice: each customer's admin got one activation e-mail and one agent token was made.
    const calls = (endpoint: string) =>
      Object.values(t.sim.stats().byEndpoint[endpoint] ?? {}).reduce((a, b) => a + b, 0);
    expect(calls('POST /tenants')).toBe(20);
    expect(calls('POST /users')).toBe(20);
    expect(calls('POST /users/{user_id}/send-activation-email')).toBe(20);
    expect(calls('POST /tenants/{tenant_id}/registration_tokens')).toBe(20);
  });
});
