import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchSummary } from '../../src/producers/batch-callbacks.js';
import { verifySignature } from '../../src/producers/webhook-signature.js';
import { pendingCallbacks } from '../../src/workers/callback-queue.js';
import { batchResults } from '../../src/workers/results.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { postWebhook, startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

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

beforeAll(async () => {
  h = await startWebhookHarness({ label: 'webhook-callback' });
  receiver = await startReceiver();
  base = h.url;
});
afterAll(async () => {
  await h?.close();
  receiver?.server.close();
});

const callsFor = (path: string) => receiver.calls.filter((c) => c.path === path);

describe('callback_url: the batch summary, signed, once the batch has ended', () => {
  it('arrives after the workers finish, verifiable with the webhook secret, with outcomes and no password or token', async () => {
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
      verifySignature({ header: call!.headers['x-signature'], rawBody: call!.raw, secrets: [h.secret] }),
    ).toMatchObject({ ok: true });

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
      { store: h.t.pipeline.store, box: h.t.pipeline.box, dataCenterUrl: h.t.sim.url },
      batchId,
    );
    const secrets = [password, ...results.flatMap((r) => [r.password, r.registration_token]).filter((s) => s !== '')];
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    for (const secret of secrets)
      expect(call!.raw.toString().includes(secret), `${secret.slice(0, 3)}… is in the callback`).toBe(false);
    expect(await pendingCallbacks(h.t.pipeline.callbacks)).not.toContain(batchId);
  });

  it('a receiver that fails is tried again; the delivery id stays the same', async () => {
    receiver.failWith.push(503, 500);
    const path = `/flaky/${randomUUID()}`;
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

  it('a customer found already queued in another batch: the summary waits for that chain and reports its outcome', async () => {
    await Promise.all(h.t.workers.splice(0).map((w) => w.close(2000)));
    const [customer] = sampleCustomers(1, 'CbOtherChain');
    const first = await postWebhook(base, h.secret, customer);
    const path = `/other-chain/${randomUUID()}`;
    const second = await postWebhook(base, h.secret, { ...customer, callback_url: `${receiver.url}${path}` });
    expect(second.body.customers[0].outcome).toBe('already-queued');
    // The second batch has ended (nothing of its own to run); its customer has not.
    expect(await h.t.pipeline.store.getBatch(second.body.batch_id)).toMatchObject({ ended: true, skipped: 1 });

    await h.t.startWorkers();
    await h.t.waitForBatch(first.body.batch_id);
    await until(async () => callsFor(path).length > 0, 'the callback of the second batch');
    const summary = JSON.parse(callsFor(path)[0]!.raw.toString()) as BatchSummary;
    expect(summary.customers).toEqual([
      expect.objectContaining({ customer: customer!.external_id, submitted: 'already-queued', state: 'done' }),
    ]);
  });
});
