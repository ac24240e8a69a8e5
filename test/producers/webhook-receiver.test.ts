import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signPayload } from '../../src/producers/webhook-signature.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import {
  countKeys,
  newWebhookSecret,
  postWebhook,
  startWebhookHarness,
  type WebhookCall,
  type WebhookHarness,
} from '../helpers/webhook.js';
import { dumpKeys } from '../helpers/redis.js';

let h: WebhookHarness;
const previousSecret = newWebhookSecret();
const unix = () => Math.floor(Date.now() / 1000);
const post = (body: unknown, call?: WebhookCall) => postWebhook(h.url, h.secret, body, call);

beforeAll(async () => {
  h = await startWebhookHarness({ label: 'webhook-receiver', env: { WEBHOOK_SECRET_PREVIOUS: previousSecret } });
  await h.t.startWorkers();
});
afterAll(async () => {
  await h?.close();
});

/**
 * What producers have put in: batches, customers submitted, customer records and first-step
 * jobs (the workers add later steps, so those counts move on their own). A request that was
 * refused or replayed changes none of them.
 */
async function pipelineCounts() {
  const batches = await h.t.pipeline.store.listBatches(1000);
  const customers = await countKeys(h.t.redis, `${h.t.prefix}:onb:customer:*`);
  const firstSteps = (
    await h.t.pipeline.queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'])
  ).filter((j) => j.name === 'create-tenant');
  return {
    batches: batches.length,
    submitted: batches.reduce((sum, b) => sum + b.total, 0),
    customers,
    firstSteps: new Set(firstSteps.map((j) => j.id)).size,
  };
}

describe('POST /webhooks/customers: accepted requests', () => {
  it('one customer: 202 with the batch id, in the queue at once; the workers onboard it, one tenant', async () => {
    const [customer] = sampleCustomers(1, 'WhSingle');
    const answer = await post(customer, { deliveryId: randomUUID() });
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body).toEqual({
      batch_id: expect.stringMatching(/^b-/),
      accepted: 1,
      duplicates: 0,
      customers: [{ index: 0, customer: 'WhSingle-1', outcome: 'queued' }],
    });
    const batch = await h.t.waitForBatch(answer.body.batch_id);
    expect(batch).toMatchObject({ source: 'webhook', total: 1, done: 1, failed: 0 });
    expectEachOnboardedOnce(h.t.sim.state(), [customer!]);
  });

  it('a list: every customer queued once; a repeat inside the body is a duplicate, not a second chain', async () => {
    const customers = sampleCustomers(3, 'WhList');
    const answer = await post({ customers: [...customers, { ...customers[1]!, name: 'WhList Customer 2 (again)' }] });
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body).toMatchObject({ accepted: 3, duplicates: 1 });
    expect(answer.body.customers.map((c: { outcome: string }) => c.outcome)).toEqual([
      'queued',
      'queued',
      'queued',
      'duplicate-in-request',
    ]);
    expect(await h.t.waitForBatch(answer.body.batch_id)).toMatchObject({ total: 3, done: 3 });
    expectEachOnboardedOnce(h.t.sim.state(), customers);
  });

  it('the same external_id in two different deliveries onboards one tenant', async () => {
    const [customer] = sampleCustomers(1, 'WhTwice');
    const first = await post(customer, { deliveryId: randomUUID() });
    const second = await post({ ...customer, phone: '+49 30 1234' }, { deliveryId: randomUUID() });
    expect([first.status, second.status]).toEqual([202, 202]);
    expect(second.body.batch_id).not.toBe(first.body.batch_id);
    expect(second.body).toMatchObject({ accepted: 0, duplicates: 1 });
    expect(['already-queued', 'already-onboarded']).toContain(second.body.customers[0].outcome);
    await h.t.waitForBatch(first.body.batch_id);
    expectEachOnboardedOnce(h.t.sim.state(), [customer!]);
  });

  it('a header with two v1 values is accepted when only the second matches (the sender rotating its secret)', async () => {
    const body = JSON.stringify(sampleCustomers(1, 'WhRotSender')[0]);
    const t = unix();
    const [, good] = signPayload(h.secret, body, t).split(',');
    const answer = await post(body, { signature: `t=${t},v1=${'0'.repeat(64)},${good}` });
    expect(answer.status, answer.text).toBe(202);
  });

  it('a signature made with WEBHOOK_SECRET_PREVIOUS is accepted (the receiver rotating)', async () => {
    const answer = await post(sampleCustomers(1, 'WhRotReceiver')[0], { secrets: [previousSecret] });
    expect(answer.status, answer.text).toBe(202);
  });
});

describe('POST /webhooks/customers: refused requests enqueue nothing', () => {
  it.each<[string, () => { body: unknown; call: WebhookCall }]>([
    ['a wrong secret', () => ({ body: sampleCustomers(1, 'WhBad')[0], call: { secrets: [newWebhookSecret()] } })],
    [
      'a tampered body',
      () => {
        const signed = JSON.stringify(sampleCustomers(1, 'WhBad')[0]);
        return {
          body: signed.replace('WhBad Customer 1', 'WhBad Customer 666'),
          call: { signature: signPayload(h.secret, signed, unix()) },
        };
      },
    ],
    ['a stale timestamp (5 min + 5 s)', () => ({ body: sampleCustomers(1, 'WhBad')[0], call: { t: unix() - 305 } })],
    [
      'a timestamp 5 minutes in the future',
      () => ({ body: sampleCustomers(1, 'WhBad')[0], call: { t: unix() + 300 } }),
    ],
    ['no X-Signature', () => ({ body: sampleCustomers(1, 'WhBad')[0], call: { secrets: null } })],
    ['a garbled X-Signature', () => ({ body: sampleCustomers(1, 'WhBad')[0], call: { signature: 'sha256=deadbeef' } })],
    [
      'a bad signature on an invalid body (401 before 400)',
      () => ({ body: { customers: [{ name: '' }] }, call: { secrets: [newWebhookSecret()] } }),
    ],
  ])('401 for %s', async (_what, make) => {
    const before = await pipelineCounts();
    const { body, call } = make();
    const answer = await post(body, call);
    expect(answer.status, answer.text).toBe(401);
    expect(answer.body.error).toBe('invalid signature');
    expect(await pipelineCounts()).toEqual(before);
  });

  it('413 for a body over 1 MiB, signed or not, before anything else', async () => {
    const big = JSON.stringify({ customers: [{ name: 'x'.repeat(1024 * 1024), email: 'big@example.com' }] });
    expect((await post(big)).status).toBe(413);
    expect((await post(big, { secrets: null })).status).toBe(413);
  });

  it('400 for a body that is not JSON; 415 for a body that is not declared JSON', async () => {
    const before = await pipelineCounts();
    const broken = await post('{"name": "Acme", "email": ');
    expect(broken.status).toBe(400);
    expect(broken.body.error).toMatch(/not JSON/);
    const text = await post(JSON.stringify(sampleCustomers(1, 'WhText')[0]), { contentType: 'text/plain' });
    expect(text.status).toBe(415);
    expect(await pipelineCounts()).toEqual(before);
  });

  it('400 naming customers[i].field and the reason for each invalid field; the valid customers beside them are not queued', async () => {
    const before = await pipelineCounts();
    const [good, second, third] = sampleCustomers(3, 'WhInvalid');
    const answer = await post({
      customers: [
        good,
        { ...second, email: 'not-an-email' },
        { ...third, name: '', edition: 'gold', favourite_colour: 'blue' },
      ],
    });
    expect(answer.status, answer.text).toBe(400);
    const fields = answer.body.problems.map((p: { field: string }) => p.field);
    expect(fields).toEqual(
      expect.arrayContaining(['customers[1].email', 'customers[2].name', 'customers[2].edition', 'customers[2]']),
    );
    expect(fields.some((f: string) => f.startsWith('customers[0]'))).toBe(false);
    expect(answer.body.problems.find((p: { field: string }) => p.field === 'customers[1].email').reason).toMatch(
      /e-mail/,
    );
    expect(answer.body.problems.find((p: { field: string }) => p.field === 'customers[2]').reason).toMatch(
      /favourite_colour/,
    );
    expect(await pipelineCounts()).toEqual(before);
  });

  it('400 naming the field of a single customer, and a callback_url that is not http(s)', async () => {
    const answer = await post({ name: 'Solo', email: 'nope', callback_url: 'ftp://example.com/x' });
    expect(answer.status).toBe(400);
    expect(answer.body.problems.map((p: { field: string }) => p.field).sort()).toEqual(['callback_url', 'email']);
  });

  it('400 for an edition the profile does not offer (the CSV import refuses the same row)', async () => {
    const before = await pipelineCounts();
    const [customer] = sampleCustomers(1, 'WhEdition');
    const answer = await post({ customers: [{ ...customer, edition: 'pck_per_gigabyte' }] });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.problems).toEqual([
      { field: 'customers[0].edition', reason: expect.stringMatching(/not offered by the profile/) },
    ]);
    expect(await pipelineCounts()).toEqual(before);
  });

  it('400 for more than 1,000 customers, naming `customers`', async () => {
    const before = await pipelineCounts();
    const answer = await post({ customers: sampleCustomers(1001, 'WhMany') });
    expect(answer.status).toBe(400);
    expect(answer.body.problems).toEqual([
      { field: 'customers', reason: expect.stringMatching(/1001 customers; at most 1000/) },
    ]);
    expect((await post({ customers: [] })).status).toBe(400);
    expect(await pipelineCounts()).toEqual(before);
  });
});

describe('POST /webhooks/customers: replays', () => {
  it('a delivery id seen before: 200 with the original batch id, nothing enqueued', async () => {
    const deliveryId = randomUUID();
    const customers = sampleCustomers(2, 'WhReplay');
    const first = await post({ customers }, { deliveryId });
    expect(first.status).toBe(202);
    await h.t.waitForBatch(first.body.batch_id);
    const before = await pipelineCounts();
    // The sender's retry: same delivery, signed again a moment later.
    const again = await post({ customers }, { deliveryId, t: unix() + 1 });
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ batch_id: first.body.batch_id, accepted: 2, duplicates: 0, replayed: true });
    expect(await pipelineCounts()).toEqual(before);

    // A delivery id reused for another body is a conflict, not a replay: 409, nothing queued, logged.
    const other = await post({ customers: sampleCustomers(1, 'WhReplayOther') }, { deliveryId });
    expect(other.status, other.text).toBe(409);
    expect(other.body.error).toMatch(/already used for a different body/);
    expect(other.headers.get('retry-after')).toBeNull();
    expect(await pipelineCounts()).toEqual(before);
    expect(h.t.logs.join('')).toContain('delivery id reused with a different body');
  });

  it("a replay of signed bytes under new delivery ids does not take those ids: the sender's next deliveries are queued", async () => {
    const [first, next] = sampleCustomers(2, 'WhPoison');
    const ids = ['7001', '7002', '7003', '7004'].map((n) => `order-${n}-${randomUUID().slice(0, 8)}`);
    const body = JSON.stringify(first);
    const signature = signPayload(h.secret, body, unix());
    const sent = await post(body, { signature, deliveryId: ids[0] });
    expect(sent.status, sent.text).toBe(202);
    for (const id of ids.slice(1)) {
      const replayed = await post(body, { signature, deliveryId: id });
      expect(replayed.status, replayed.text).toBe(200);
      expect(replayed.body).toMatchObject({ batch_id: sent.body.batch_id, replayed: true });
      expect(await h.t.redis.exists(`${h.t.prefix}:webhook:delivery:${id}`), `${id} was written`).toBe(0);
    }
    // The sender's genuine next delivery, a new customer, under an id the replay used.
    const genuine = await post(next, { deliveryId: ids[2] });
    expect(genuine.status, genuine.text).toBe(202);
    expect(genuine.body.batch_id).not.toBe(sent.body.batch_id);
    expect(genuine.body.customers).toEqual([{ index: 0, customer: next!.external_id, outcome: 'queued' }]);
    await h.t.waitForBatch(genuine.body.batch_id);
    expectEachOnboardedOnce(h.t.sim.state(), [first!, next!]);
  });

  it('the same signed request sent again without a delivery id (or with a new one): no second batch', async () => {
    const body = JSON.stringify(sampleCustomers(1, 'WhSigReplay')[0]);
    const signature = signPayload(h.secret, body, unix());
    const first = await post(body, { signature });
    expect(first.status).toBe(202);
    const before = await pipelineCounts();
    const again = await post(body, { signature });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ batch_id: first.body.batch_id, replayed: true });
    const withNewId = await post(body, { signature, deliveryId: randomUUID() });
    expect(withNewId.body).toMatchObject({ batch_id: first.body.batch_id, replayed: true });
    expect(await pipelineCounts()).toEqual(before);
  });

  it('concurrent deliveries with the same id: one batch; the others get its id (or 409 and a Retry-After)', async () => {
    const deliveryId = randomUUID();
    const customers = sampleCustomers(40, 'WhConcurrent');
    const before = await pipelineCounts();
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) => post({ customers }, { deliveryId, t: unix() + (i % 2) })),
    );
    const statuses = answers.map((a) => a.status);
    expect(
      statuses.filter((s) => s === 202),
      statuses.join(','),
    ).toHaveLength(1);
    const winner = answers.find((a) => a.status === 202)!;
    for (const a of answers.filter((x) => x.status !== 202)) {
      if (a.status === 409) expect(a.headers.get('retry-after')).toBe('1');
      else expect(a.body).toMatchObject({ batch_id: winner.body.batch_id, replayed: true });
    }
    expect((await pipelineCounts()).batches).toBe(before.batches + 1);
    await h.t.waitForBatch(winner.body.batch_id);
    expectEachOnboardedOnce(h.t.sim.state(), customers);
  });
});

describe('POST /webhooks/customers: a delivery interrupted mid-way', () => {
  it("a failure mid-enqueue releases the claim: the sender's retry with the same delivery id is queued", async () => {
    const deliveryId = randomUUID();
    const [customer] = sampleCustomers(1, 'WhMidFail');
    // A customer record Redis cannot read as a hash: enqueueing fails after the batch was made.
    const poisoned = `${h.t.prefix}:onb:customer:${customer!.external_id}`;
    await h.t.redis.set(poisoned, 'not a hash');
    const failed = await post(customer, { deliveryId });
    expect(failed.status, failed.text).toBe(500);

    await h.t.redis.del(poisoned);
    const retried = await post(customer, { deliveryId });
    expect(retried.status, retried.text).toBe(202);
    expect(retried.body.accepted).toBe(1);
    await h.t.waitForBatch(retried.body.batch_id);
    expectEachOnboardedOnce(h.t.sim.state(), [customer!]);
  });

  it('a delivery left pending by a process that died mid-enqueue: 409 with Retry-After until its claim runs out', async () => {
    const deliveryId = randomUUID();
    const [customer] = sampleCustomers(1, 'WhPending');
    const claimKey = `${h.t.prefix}:webhook:delivery:${deliveryId}`;
    await h.t.redis.set(
      claimKey,
      JSON.stringify({ state: 'pending', token: 'a-dead-process', body: 'x' }),
      'PX',
      60_000,
    );
    const blocked = await post(customer, { deliveryId });
    expect(blocked.status).toBe(409);
    expect(blocked.headers.get('retry-after')).toBe('1');
    expect(await h.t.pipeline.store.getCustomer(customer!.external_id!)).toBeUndefined();

    await h.t.redis.pexpire(claimKey, 1); // what PENDING_TTL_MS does, sooner
    await until(async () => (await h.t.redis.exists(claimKey)) === 0, 'the dead claim to expire');
    const retried = await post(customer, { deliveryId });
    expect(retried.status, retried.text).toBe(202);
  });
});

describe('health and logs', () => {
  it('GET /healthz: 200 {redis:"ok"}', async () => {
    const response = await fetch(`${h.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ redis: 'ok' });
  });

  it('no secret, signature or password from a body reaches a log line, nor Redis in clear', async () => {
    const password = 'Caller-Chosen-Pw-4711!';
    const body = JSON.stringify({ ...sampleCustomers(1, 'WhLogs')[0], activation: 'password', password });
    const signature = signPayload(h.secret, body, unix());
    expect((await post(body, { signature })).status).toBe(202);
    // The last hex digit changed (to another digit whatever it was): a signature that does not match.
    const tampered = signature.replace(/.$/, (d) => (d === '0' ? '1' : '0'));
    expect((await post(body, { signature: tampered })).status).toBe(401);
    const logs = h.t.logs.join('');
    expect(logs).toContain('webhook accepted');
    for (const secret of [h.secret, previousSecret, signature.split('v1=')[1]!, password]) {
      expect(logs.includes(secret), `${secret.slice(0, 4)}… is in the logs`).toBe(false);
    }
    // The queued job, the customer record and the replay store hold the password sealed, if at all.
    const redisText = await dumpKeys(h.t.redis, h.t.prefix);
    expect(redisText).toContain('WhLogs-1');
    for (const secret of [h.secret, previousSecret, password]) {
      expect(redisText.includes(secret), `${secret.slice(0, 4)}… is in Redis`).toBe(false);
    }
  });
});
