import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sampleCustomers } from '../helpers/pipeline.js';
import { startPrivateRedis, type PrivateRedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';
import { postWebhook, startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

// Redis is killed here, so this file runs on a private redis-server, never the shared 6379.
let redis: PrivateRedisServer;
let h: WebhookHarness;

beforeAll(async () => {
  redis = await startPrivateRedis();
  h = await startWebhookHarness({ label: 'webhook-redis-down', env: { REDIS_URL: redis.url } });
});
afterAll(async () => {
  // close() removes the keys through the private server, so it must be up even if a test stopped mid-outage.
  await redis?.start().catch(() => undefined);
  await h?.close();
  await redis?.destroy();
});

const health = async () => {
  const response = await fetch(`${h.url}/healthz`, { signal: AbortSignal.timeout(5000) });
  return {
    status: response.status,
    body: (await response.json()) as unknown,
    retryAfter: response.headers.get('retry-after'),
  };
};

describe('Redis down', () => {
  it('the webhook answers 503 with Retry-After at once (no hang), and works again when Redis is back', async () => {
    const firstId = randomUUID();
    const first = await postWebhook(h.url, h.secret, sampleCustomers(1, 'DownBefore')[0], { deliveryId: firstId });
    expect(first.status).toBe(202);

    await redis.kill();
    // The client timeout is the hang detector: a handler waiting on Redis would trip it.
    const during = await postWebhook(h.url, h.secret, sampleCustomers(1, 'DownDuring')[0], {
      deliveryId: randomUUID(),
      timeoutMs: 5000,
    });
    expect(during.status, during.text).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');
    expect(during.body.error).toMatch(/Redis is unavailable/);
    expect(await health()).toEqual({ status: 503, body: { redis: 'down' }, retryAfter: '5' });
    // Checks that need no Redis still answer as usual.
    expect(
      (await postWebhook(h.url, 'a-wrong-secret-0123456789', sampleCustomers(1, 'DownBad')[0], { timeoutMs: 5000 }))
        .status,
    ).toBe(401);

    await redis.start();
    await until(async () => (await health()).status === 200, 'the health check to see Redis again', 15_000);
    const after = await postWebhook(h.url, h.secret, sampleCustomers(1, 'DownAfter')[0], { deliveryId: randomUUID() });
    expect(after.status, after.text).toBe(202);
    // The replay store came back with Redis (AOF): the first delivery is still known.
    const replay = await postWebhook(h.url, h.secret, sampleCustomers(1, 'DownBefore')[0], { deliveryId: firstId });
    expect(replay.status).toBe(200);
    expect(replay.body.batch_id).toBe(first.body.batch_id);
  });

  it('a Redis that stops answering (busy for 4 s) is met with 503 at the deadline, not a hanging request; the retry is queued', async () => {
    // Redis runs one script at a time and answers nobody meanwhile: as frozen as a stopped host.
    const freeze = h.t.redis.eval(
      `local function now() local t = redis.call('TIME') return tonumber(t[1]) * 1000000 + tonumber(t[2]) end
       local t0 = now() while now() - t0 < 4000000 do end return 1`,
      0,
    );
    // Frozen once a PING on another connection goes unanswered; over 2.5 s of the freeze remain, more than the handler's 2 s deadline.
    const pingAnswers = () => Promise.race([h.t.pipeline.redis.ping().then(() => true), sleep(500).then(() => false)]);
    await until(async () => !(await pingAnswers()), 'Redis to freeze', 3000);
    const [customer] = sampleCustomers(1, 'Frozen');
    const deliveryId = randomUUID();
    const during = await postWebhook(h.url, h.secret, customer, { deliveryId, timeoutMs: 5000 });
    expect(during.status, during.text).toBe(503);
    expect(during.headers.get('retry-after')).toBe('5');
    await freeze;
    await until(async () => (await health()).status === 200, 'Redis to answer again', 15_000);
    // The claim that reached Redis after its deadline was given back: the sender's retry goes through.
    const retried = await postWebhook(h.url, h.secret, customer, { deliveryId });
    expect(retried.status, retried.text).toBe(202);
  });
});
