import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/app/server.js';
import { signPayload } from '../../src/producers/webhook-signature.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { postWebhook, startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * What an unauthenticated caller can cost `serve`: requests refused from their headers, before
 * the body is read; a cap on requests in progress; a body that stalls is cut off; a client
 * refused too often waits. Raw sockets, so a test controls exactly which bytes are sent.
 */

let h: WebhookHarness;
const unix = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  h = await startWebhookHarness({ label: 'webhook-limits' });
});
afterAll(async () => {
  await h?.close();
});

interface RawCall {
  socket: Socket;
  /** The status line's code, once the answer's headers arrived. */
  status: Promise<number>;
  /** The server closed (or reset) the connection. */
  closed: Promise<void>;
}

/** Sends a POST's headers (and `body`, if any) and keeps the connection open for more. */
function rawPost(
  server: RunningServer,
  headers: Record<string, string>,
  body?: Buffer,
  localAddress?: string,
): RawCall {
  const { hostname, port } = new URL(server.url);
  const socket = connect({ host: hostname, port: Number(port), ...(localAddress ? { localAddress } : {}) });
  socket.on('error', () => undefined); // a reset is one of the outcomes looked at
  const lines = Object.entries({ host: `${hostname}:${port}`, ...headers }).map(([k, v]) => `${k}: ${v}`);
  socket.write(`POST /webhooks/customers HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
  if (body) socket.write(body);
  let received = '';
  const status = new Promise<number>((resolve, reject) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
      if (match) resolve(Number(match[1]));
    });
    socket.once('close', () => reject(new Error(`closed without an answer (got ${JSON.stringify(received)})`)));
  });
  status.catch(() => undefined);
  const closed = once(socket, 'close').then(() => undefined);
  return { socket, status, closed };
}

/** Fails the test if `promise` has not settled within `ms` (the server would otherwise hold it for 30 s). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_resolve, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)),
  ]);
}

const json = { 'content-type': 'application/json' };
/** A header of the right shape and time that no secret made. */
const forged = () => `t=${unix()},v1=${'ab'.repeat(32)}`;

describe('refused from the headers alone, before the body is read', () => {
  it.each([
    ['no X-Signature', () => ({})],
    ['a malformed X-Signature', () => ({ 'x-signature': 'sha256=deadbeef' })],
    ['a timestamp 10 minutes old', () => ({ 'x-signature': signPayload(h.secret, '{}', unix() - 600) })],
  ])('%s: 401 while the 1 MiB body has not been sent, and the connection is closed', async (_what, header) => {
    const call = rawPost(h.server, { ...json, 'content-length': String(1024 * 1024), ...header() });
    expect(await within(call.status, 5000, 'answer')).toBe(401);
    await within(call.closed, 5000, 'close of the connection');
  });

  it('a declared body over 1 MiB: 413 before a byte of it is sent', async () => {
    const call = rawPost(h.server, { ...json, 'content-length': String(1024 * 1024 + 1), 'x-signature': forged() });
    expect(await within(call.status, 5000, 'answer')).toBe(413);
  });
});

describe('requests in progress are capped, and a stalled body is cut off', () => {
  it('past maxInFlight the next request gets 503 at once; /healthz still answers; a held place comes back', async () => {
    const server = await h.startServer({ limits: { maxInFlight: 3, bodyTimeoutMs: 60_000 } });
    const held = Array.from({ length: 3 }, () =>
      rawPost(server, { ...json, 'content-length': '1000', 'x-signature': forged() }, Buffer.alloc(10, 32)),
    );
    // The server has taken them in once a 4th is turned away.
    let busy: RawCall | undefined;
    for (let i = 0; i < 50; i++) {
      busy = rawPost(server, { ...json, 'content-length': '1000', 'x-signature': forged() });
      const answered = await within(busy.status, 5000, 'answer').catch(() => 0);
      if (answered === 503) break;
      busy.socket.destroy();
    }
    expect(await busy!.status).toBe(503);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);

    held[0]!.socket.destroy();
    await held[0]!.closed;
    // The server learns of the close a moment after the client: a 503 until then.
    const [customer] = sampleCustomers(1, 'WhLimitAfter');
    let answer: Awaited<ReturnType<typeof postWebhook>> | undefined;
    await until(
      async () => (answer = await postWebhook(server.url, h.secret, customer)).status !== 503,
      'a free place',
    );
    expect(answer!.status, answer!.text).toBe(202);
    for (const call of held) call.socket.destroy();
  });

  it('a body that stops arriving is cut off after bodyTimeoutMs; the place it held is free again', async () => {
    const server = await h.startServer({ limits: { maxInFlight: 1, bodyTimeoutMs: 300 } });
    const stalled = rawPost(
      server,
      { ...json, 'content-length': '1000', 'x-signature': forged() },
      Buffer.alloc(10, 32),
    );
    await within(stalled.closed, 10_000, 'close of the stalled connection');
    const [customer] = sampleCustomers(1, 'WhLimitStalled');
    const answer = await postWebhook(server.url, h.secret, customer);
    expect(answer.status, answer.text).toBe(202);
  });
});

describe('connections are capped and idle ones closed', () => {
  it('past maxConnections a new connection is closed at once; a connection that sends nothing is closed after idleTimeoutMs', async () => {
    const server = await h.startServer({ limits: { maxConnections: 2, idleTimeoutMs: 60_000 } });
    const { hostname, port } = new URL(server.url);
    const open = () => {
      const socket = connect({ host: hostname, port: Number(port) });
      socket.on('error', () => undefined);
      return { socket, closed: once(socket, 'close') };
    };
    const held = [open(), open()];
    await Promise.all(held.map((c) => once(c.socket, 'connect')));
    const refused = open();
    await within(refused.closed, 5000, 'close of the connection over the cap');
    for (const c of held) c.socket.destroy();

    const idle = await h.startServer({ limits: { idleTimeoutMs: 300 } });
    const quiet = connect({ host: hostname, port: Number(new URL(idle.url).port) });
    quiet.on('error', () => undefined);
    await within(once(quiet, 'close'), 10_000, 'close of the idle connection');
  });
});

describe('a client refused too often waits', () => {
  it('after maxAuthFailuresPerMinute refused signatures, even a signed request from that address gets 429; another address does not', async () => {
    const server = await h.startServer({ limits: { maxAuthFailuresPerMinute: 4 } });
    const [customer, other] = sampleCustomers(2, 'WhLimitRate');
    for (let i = 0; i < 2; i++)
      expect((await postWebhook(server.url, h.secret, customer, { secrets: null })).status).toBe(401);
    for (let i = 0; i < 2; i++)
      expect((await postWebhook(server.url, h.secret, customer, { signature: forged() })).status).toBe(401);
    const limited = await postWebhook(server.url, h.secret, customer);
    expect(limited.status, limited.text).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);

    // 127.0.0.2 is another client on the loopback network.
    const body = Buffer.from(JSON.stringify(other));
    const headers = { ...json, 'content-length': String(body.length), 'x-signature': signPayload(h.secret, body) };
    const elsewhere = rawPost(server, headers, body, '127.0.0.2');
    expect(await within(elsewhere.status, 5000, 'answer')).toBe(202);
    elsewhere.socket.destroy();
  });
});
