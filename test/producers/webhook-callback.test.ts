import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchSummary } from '../../src/producers/batch-callbacks.js';
import { verifySignature } from '../../src/producers/webhook-signature.js';
import {
  CALLBACK_ATTEMPTS,
  callbackJobId,
  pendingCallbacks,
  scheduleCallback,
  type CallbackJob,
} from '../../src/workers/callback-queue.js';
import { batchResults } from '../../src/workers/results.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { dumpKeys } from '../helpers/redis.js';
import { newWebhookSecret, postWebhook, startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/** The sales system's end: a small HTTP server that records what it is sent, and can fail on purpose. */
interface Receiver {
  url: string;
  calls: { path: string; headers: IncomingHttpHeaders; raw: Buffer }[];
  /** Statuses to answer with before answering 204. */
  failWith: number[];
  server: Server;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: '', calls: [], failWith: [], server: createServer() };
  receiver.server.on('request', (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      receiver.calls.push({ path: request.url ?? '', headers: request.headers, raw: Buffer.concat(chunks) });
      response.statusCode = receiver.failWith.shift() ?? 204;
      response.end();
    });
  });
  receiver.server.listen(0, '127.0.0.1');
  await once(receiver.server, 'listening');
  receiver.url = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
  return receiver;
}

let h: WebhookHarness;
let receiver: Receiver;
/** The running server's URL (a test restarts it). */
let base: string;
/** Callbacks are signed with their own secret, never the webhook's. */
const callbackSecret = newWebhookSecret();

beforeAll(async () => {
  h = await startWebhookHarness({
    label: 'webhook-callback',
    // The receivers of these tests listen on loopback over plain http: allowed explicitly.
    env: { CALLBACK_SECRET: callbackSecret, CALLBACK_ALLOWED_HOSTS: '127.0.0.1', CALLBACK_ALLOW_HTTP: 'true' },
  });
  receiver = await startReceiver();
  base = h.url;
});
afterAll(async () => {
  await h?.close();
  receiver?.server.close();
});

const callsFor = (path: string) => receiver.calls.filter((c) => c.path === path);

describe('callback_url: the batch summary, signed, once the batch has ended', () => {
  it('arrives after the workers finish, verifiable with CALLBACK_SECRET (not the webhook secret), with outcomes and no password or token', async () => {
    await h.t.startWorkers();
    const password = 'Caller-Chosen-Pw-5150!';
    const customers = [
      ...sampleCustomers(2, 'CbMail'),
      ...sampleCustomers(1, 'CbPw', { activation: 'password', password }),
    ];
    const path = `/hooks/${randomUUID()}?token=abc`;
    const answer = await postWebhook(base, h.secret, { customers, callback_url: `${receiver.url}${path}` });
    expect(answer.status, answer.text).toBe(202);
    const batchId: string = answer.body.batch_id;

    await until(async () => callsFor(path).length > 0, 'the callback to arrive');
    const batch = await h.t.pipeline.store.getBatch(batchId);
    expect(batch, 'the callback came before the batch ended').toMatchObject({ ended: true, done: 3 });
    const [call] = callsFor(path);
    expect(call!.headers['content-type']).toBe('application/json');
    expect(call!.headers['x-delivery-id']).toBe(`callback-${batchId}`);
    expect(
      verifySignature({ header: call!.headers['x-signature'], rawBody: call!.raw, secrets: [callbackSecret] }),
    ).toMatchObject({ ok: true });
    expect(
      verifySignature({ header: call!.headers['x-signature'], rawBody: call!.raw, secrets: [h.secret] }),
    ).toMatchObject({ ok: false, reason: 'mismatch' });
    // A captured callback posted back to the webhook is no webhook request.
    const echoed = await postWebhook(base, h.secret, call!.raw, {
      signature: String(call!.headers['x-signature']),
      deliveryId: String(call!.headers['x-delivery-id']),
    });
    expect(echoed.status, echoed.text).toBe(401);

    const summary = JSON.parse(call!.raw.toString()) as BatchSummary;
    expect(summary).toMatchObject({
      event: 'batch.ended',
      batch_id: batchId,
      source: 'webhook',
      counts: { total: 3, done: 3, failed: 0 },
    });
    const onboarded = expectEachOnboardedOnce(h.t.sim.state(), customers);
    expect(summary.customers).toEqual(
      customers.map((c, i) =>
        expect.objectContaining({
          customer: c.external_id,
          submitted: 'queued',
          state: 'done',
          failed_step: null,
          tenant_id: onboarded[i]!.tenant.id,
          user_id: onboarded[i]!.user.id,
        }),
      ),
    );
    const results = await batchResults(
      { store: h.t.pipeline.store, box: h.t.pipeline.box, dataCenterUrlFor: () => h.t.sim.url },
      batchId,
    );
    const secrets = [password, ...results.flatMap((r) => [r.password, r.registration_token]).filter((s) => s !== '')];
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const secret of secrets)
      expect(call!.raw.toString().includes(secret), `${secret.slice(0, 3)}… is in the callback`).toBe(false);
    expect(await pendingCallbacks(h.t.pipeline.callbacks)).not.toContain(batchId);
  });

  it('a receiver that fails is tried again; the delivery id stays the same; its URL is never logged nor kept in clear', async () => {
    receiver.failWith.push(503, 500);
    const secretPart = randomUUID();
    const path = `/flaky/${secretPart}?access_token=tok-${secretPart}`;
    const answer = await postWebhook(base, h.secret, {
      ...sampleCustomers(1, 'CbFlaky')[0],
      callback_url: `${receiver.url}${path}`,
    });
    expect(answer.status).toBe(202);
    await until(async () => callsFor(path).length >= 3, 'the callback to be tried three times', 30_000);
    const ids = new Set(callsFor(path).map((c) => c.headers['x-delivery-id']));
    expect([...ids]).toEqual([`callback-${answer.body.batch_id}`]);
    await until(
      async () => !(await pendingCallbacks(h.t.pipeline.callbacks)).includes(answer.body.batch_id),
      'the callback to be done',
    );
    const logs = h.t.logs.join('');
    expect(logs).toContain('batch callback failed; will try again');
    expect(logs).toContain(receiver.url);
    expect(logs.includes(secretPart), 'the path or query of callback_url is in the logs').toBe(false);
    expect((await dumpKeys(h.t.redis, h.t.prefix)).includes(secretPart), 'callback_url is in Redis in clear').toBe(
      false,
    );
  });

  it('a job an older version queued with the URL in clear is given up on its first attempt, saying why; the URL is neither logged nor kept', async () => {
    const { batch } = await h.t.enqueue(sampleCustomers(1, 'CbClear'));
    await h.t.waitForBatch(batch.id);
    const secretPart = randomUUID();
    const path = `/clear/${secretPart}?token=tok-${secretPart}`;
    // What a version before sealing added: `url`, no `urlSealed` nor `origin`; the queue's 24 attempts.
    const clear = { batchId: batch.id, url: `${receiver.url}${path}`, registeredAt: new Date().toISOString() };
    await h.t.pipeline.callbacks.add('batch-callback', clear as unknown as CallbackJob, {
      jobId: callbackJobId(batch.id),
    });
    const job = async () => h.t.pipeline.callbacks.getJob(callbackJobId(batch.id));
    await until(
      async () => (await (await job())?.isFailed()) === true,
      'the clear-URL callback to be given up',
      20_000,
    );
    const failed = await job();
    expect(failed!.opts.attempts).toBe(CALLBACK_ATTEMPTS);
    expect(failed!.attemptsMade).toBe(1);
    expect(failed!.failedReason).toBe(
      `the callback URL (to ${receiver.url}) was stored in clear by an older version and is not sent: ` +
        'ask the sender to send the batch again with its callback_url, or re-trigger the callback there',
    );
    expect(callsFor(path)).toHaveLength(0);
    const lines = h.t.logs
      .join('')
      .split('\n')
      .filter((l) => l.includes(batch.id));
    expect(lines.filter((l) => l.includes('batch callback given up'))).toHaveLength(1);
    expect(lines.some((l) => l.includes('will try again'))).toBe(false);
    expect(lines.find((l) => l.includes('batch callback given up'))).toContain(`"target":"${receiver.url}"`);
    expect(h.t.logs.join('').includes(secretPart), 'the path or query of the clear URL is in the logs').toBe(false);
    // The failed job keeps the origin, not the URL.
    expect(failed!.data).toEqual({ batchId: batch.id, registeredAt: clear.registeredAt, origin: receiver.url });
    expect((await dumpKeys(h.t.redis, h.t.prefix)).includes(secretPart), 'the clear URL is still in Redis').toBe(false);
  });

  it('survives a restart: a callback pending when serve stops is delivered by the next serve', async () => {
    // Workers stopped: the batch cannot end while the first server runs.
    await Promise.all(h.t.workers.splice(0).map((w) => w.close(2000)));
    const path = `/restart/${randomUUID()}`;
    const customers = sampleCustomers(2, 'CbRestart');
    const answer = await postWebhook(base, h.secret, { customers, callback_url: `${receiver.url}${path}` });
    expect(answer.status).toBe(202);
    await h.server.close();
    // The callback waits in Redis, as a delayed job, for whichever server runs next.
    expect(await pendingCallbacks(h.t.pipeline.callbacks)).toContain(answer.body.batch_id);

    const restarted = await h.startServer();
    base = restarted.url;
    await h.t.startWorkers();
    await until(async () => callsFor(path).length > 0, 'the callback to arrive from the new server');
    const summary = JSON.parse(callsFor(path)[0]!.raw.toString()) as BatchSummary;
    expect(summary).toMatchObject({ batch_id: answer.body.batch_id, counts: { total: 2, done: 2 } });
    await until(async () => (await pendingCallbacks(h.t.pipeline.callbacks)).length === 0, 'no callback left pending');
  });

  it('a customer found queued or onboarded already (another batch, another producer): named with its outcome, nothing of its record', async () => {
    const [queued, onboarded] = sampleCustomers(2, 'CbOtherChain');
    const imported = await h.t.enqueue([onboarded!]); // the CSV import's way in
    await h.t.waitForBatch(imported.batch.id);
    await Promise.all(h.t.workers.splice(0).map((w) => w.close(2000)));
    const first = await postWebhook(base, h.secret, queued);

    const path = `/other-chain/${randomUUID()}`;
    const second = await postWebhook(base, h.secret, {
      customers: [queued, onboarded],
      callback_url: `${receiver.url}${path}`,
    });
    expect(second.body.customers.map((c: { outcome: string }) => c.outcome)).toEqual([
      'already-queued',
      'already-onboarded',
    ]);
    // The second batch onboards nothing of its own: its summary goes without waiting for the other chain.
    await until(async () => callsFor(path).length > 0, 'the callback of the second batch');
    expect((await h.t.pipeline.store.getCustomer(queued!.external_id!))?.state).toBe('queued');
    const summary = JSON.parse(callsFor(path)[0]!.raw.toString()) as BatchSummary;
    const nothing = { name: null, state: null, tenant_id: null, user_id: null, login: null, activation: null };
    expect(summary.customers).toEqual([
      expect.objectContaining({ customer: queued!.external_id, submitted: 'already-queued', ...nothing }),
      expect.objectContaining({ customer: onboarded!.external_id, submitted: 'already-onboarded', ...nothing }),
    ]);
    await h.t.startWorkers();
    await h.t.waitForBatch(first.body.batch_id);
  });
});

describe('callback_url: where a callback may go', () => {
  let targets = 0;
  it.each([
    ['the cloud metadata address', 'https://169.254.169.254/latest/meta-data/', /link-?local/i],
    ['IPv6 loopback', 'https://[::1]:6379/', /loopback/],
    // 127.0.0.1 itself is allowed here (the receivers): its neighbours are not.
    ['loopback written in hex', 'https://0x7f000002/', /loopback address \(127\.0\.0\.2\)/],
    ['loopback written as a number', 'https://2130706434/', /loopback/],
    ['an IPv4-mapped IPv6 loopback', 'https://[::ffff:127.0.0.1]/', /loopback/],
    ['a private address', 'https://10.0.0.8/hook', /private/],
    ['localhost', 'https://localhost:2375/containers', /localhost/],
    ['credentials in the URL', 'https://user:pw@psa.example/hook', /credentials/],
    ['plain http to a host not allowed', 'http://psa.example/hook', /https/],
  ])('%s is refused (400, callback_url), nothing queued', async (_what, url, reason) => {
    const [customer] = sampleCustomers(1, `CbTarget${++targets}`);
    const answer = await postWebhook(base, h.secret, { ...customer, callback_url: url });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.problems).toEqual([{ field: 'callback_url', reason: expect.stringMatching(reason) }]);
    expect(await h.t.pipeline.store.getCustomer(customer!.external_id!)).toBeUndefined();
  });

  it('a name that resolves to an internal address is refused when the callback connects: no connection is made, no retry', async () => {
    // A callback stored with a name the webhook let through (say, before a host left
    // CALLBACK_ALLOWED_HOSTS): `localhost` resolves to loopback when the worker connects.
    const listener = createNetServer((socket) => {
      connections++;
      socket.destroy();
    });
    let connections = 0;
    listener.listen(0, '127.0.0.1');
    await once(listener, 'listening');
    const port = (listener.address() as AddressInfo).port;
    const { batch } = await h.t.enqueue(sampleCustomers(1, 'CbRebind'));
    await h.t.waitForBatch(batch.id);
    await scheduleCallback(h.t.pipeline.callbacks, h.t.pipeline.box, batch.id, `https://localhost:${port}/admin`);
    const job = async () => h.t.pipeline.callbacks.getJob(callbackJobId(batch.id));
    await until(
      async () => (await (await job())?.isFailed()) === true,
      `the callback to be given up (${JSON.stringify((await job())?.failedReason)})`,
      20_000,
    );
    const failed = await job();
    expect(failed!.failedReason).toMatch(/localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    expect(failed!.attemptsMade).toBe(1);
    expect(connections).toBe(0);
    listener.close();
  });
});
