import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandardWebhook, verifyStandardWebhook } from '../../src/sources/generic/standard-webhooks.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * The intake end to end with the generic kind: a signed event over real HTTP, recorded once, worked
 * by the intake job, onboarded on the Acronis simulator by real workers, written back to a signed
 * callback receiver; retries, duplicates and every kind of bad request in the same run.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I20_${name}_${tag}`;
const whsec = () => `whsec_${randomBytes(32).toString('base64')}`;
const secrets = {
  shop: whsec(),
  shopPrevious: whsec(),
  callback: whsec(),
  token: randomBytes(24).toString('base64url'),
  user: 'psa-user',
  password: randomBytes(16).toString('base64url'),
};
process.env[env('SHOP')] = secrets.shop;
process.env[env('SHOP_PREVIOUS')] = secrets.shopPrevious;
process.env[env('CALLBACK')] = secrets.callback;
process.env[env('TOKEN')] = secrets.token;
process.env[env('USER')] = secrets.user;
process.env[env('PASSWORD')] = secrets.password;

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
}
const callbacks: Received[] = [];
let receiver: Server;
let h: WebhookHarness;
let store: SourceIntakeStore;

function sourceFiles(callbackUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'i20-sources-'));
  const shop = {
    kind: 'generic',
    rate_limit: { per_second: 20 },
    trigger: { all: [{ field: 'deal.status', equals: ['won'], label: 'deal status' }] },
    mapping: {
      name: 'company.name',
      email: 'contact.email',
      first_name: 'contact.first',
      last_name: 'contact.last',
      language: { value: 'de' },
      line_item_quotas: {
        name: 'items[].sku',
        quantity: 'items[].qty',
        items: { 'CP-WS': 'pw_base_workstations' },
      },
    },
    settings: {
      auth: { scheme: 'standard-webhooks', secret_env: env('SHOP'), previous_secret_env: env('SHOP_PREVIOUS') },
      object_id: 'deal_id',
      callback: { url: callbackUrl, secret_env: env('CALLBACK') },
    },
  };
  writeFileSync(join(dir, 'shop.json'), JSON.stringify(shop));
  writeFileSync(
    join(dir, 'helpdesk.json'),
    JSON.stringify({ kind: 'generic', settings: { auth: { scheme: 'bearer', token_env: env('TOKEN') } } }),
  );
  writeFileSync(
    join(dir, 'legacy.json'),
    JSON.stringify({
      kind: 'generic',
      settings: { auth: { scheme: 'basic', user_env: env('USER'), password_env: env('PASSWORD') } },
    }),
  );
  return dir;
}

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      callbacks.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const callbackUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/onboarded`;
  h = await startWebhookHarness({
    label: 'generic-intake',
    env: { SOURCES_DIR: sourceFiles(callbackUrl) },
    sources: { writeBackRecheckMs: 200 },
  });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  await h.t.startWorkers();
});
afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

const unix = () => Math.floor(Date.now() / 1000);

function signed(body: string, o: { id?: string; timestamp?: number; secret?: string } = {}): Record<string, string> {
  const id = o.id ?? `msg_${randomUUID()}`;
  const timestamp = o.timestamp ?? unix();
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': signStandardWebhook(o.secret ?? secrets.shop, id, timestamp, body),
  };
}

async function post(source: string, body: string, headers: Record<string, string>) {
  const response = await fetch(`${h.url}/webhooks/sources/${source}`, { method: 'POST', body, headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

function deal(id: string, o: { status?: string; email?: string | null; qty?: number } = {}) {
  return {
    deal_id: id,
    deal: { status: o.status ?? 'won' },
    company: { name: `Shop ${tag} ${id}` },
    contact: {
      ...(o.email === null ? {} : { email: o.email ?? `it@${id.toLowerCase()}-${tag.toLowerCase()}.example` }),
      first: 'Ada',
      last: 'Admin',
    },
    items: [
      { sku: 'CP-WS', qty: o.qty ?? 7 },
      { sku: 'SUPPORT', qty: 1 },
    ],
  };
}

async function settled(source: string, eventId: string): Promise<StoredEvent> {
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event(source, eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `event ${eventId} of ${source} to be settled`);
  return event as StoredEvent;
}

describe('a generic source signed with Standard Webhooks', () => {
  it('onboards the deal once with its prepaid quantity as a hard quota, and writes the tenant back, signed', async () => {
    const body = JSON.stringify(deal('D-1'));
    const headers = signed(body);
    const first = await post('shop', body, headers);
    expect(first).toMatchObject({ status: 202, body: { accepted: 1, duplicates: 0 } });
    // The sender's retry: same webhook-id, signed again later (Standard Webhooks retries keep the id).
    const retry = await post('shop', body, signed(body, { id: headers['webhook-id'], timestamp: unix() }));
    expect(retry).toMatchObject({ status: 202, body: { accepted: 0, duplicates: 1 } });

    const event = await settled('shop', `${headers['webhook-id']}#0`);
    expect(event).toMatchObject({ outcome: 'onboarding', customer: 'shop:D-1', enqueued: 'queued' });
    await h.t.waitForBatch(event.batchId as string);
    const { tenant, user } = expectEachOnboardedOnce(h.t.sim.state(), [
      { name: `Shop ${tag} D-1`, email: `it@d-1-${tag.toLowerCase()}.example`, external_id: 'shop:D-1' },
    ])[0]!;
    const workstations = h.t.sim.state().offeringItems[tenant.id]!.find((i) => i.name === 'pw_base_workstations');
    expect(workstations?.quota).toMatchObject({ value: 7, overage: 0 });

    await until(async () => (await store.writeBack('shop:D-1'))?.state === 'written', 'the write-back');
    const call = callbacks.find((c) => c.body.includes('shop:D-1'));
    expect(call).toBeDefined();
    const verdict = verifyStandardWebhook(call!.headers, Buffer.from(call!.body), [secrets.callback], Date.now());
    expect(verdict).toEqual({ ok: true });
    expect(JSON.parse(call!.body)).toMatchObject({
      type: 'customer.onboarded',
      data: { object_id: 'D-1', customer: 'shop:D-1', state: 'done', tenant_id: tenant.id, admin_login: user.login },
    });
  });

  it('a second event for the same deal, and a rotation signature, onboard nothing twice', async () => {
    const body = JSON.stringify(deal('D-1'));
    const headers = signed(body, { secret: secrets.shopPrevious });
    expect((await post('shop', body, headers)).status).toBe(202);
    const event = await settled('shop', `${headers['webhook-id']}#0`);
    expect(event.outcome).toBe('onboarding');
    expect(['already-onboarded', 'already-queued']).toContain(event.enqueued);
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === 'shop:D-1')).toHaveLength(1);
  });

  it('a deal not won is ignored with the reason; one without a contact e-mail is rejected naming the field', async () => {
    const open = JSON.stringify(deal('D-2', { status: 'open' }));
    const openHeaders = signed(open);
    await post('shop', open, openHeaders);
    expect(await settled('shop', `${openHeaders['webhook-id']}#0`)).toMatchObject({
      outcome: 'ignored',
      reason: 'deal status is open, not won',
    });
    const noEmail = JSON.stringify([deal('D-3', { email: null }), deal('D-4', { qty: -2 })]);
    const noEmailHeaders = signed(noEmail);
    expect(await post('shop', noEmail, noEmailHeaders)).toMatchObject({ status: 202, body: { accepted: 2 } });
    const missing = await settled('shop', `${noEmailHeaders['webhook-id']}#0`);
    expect(missing).toMatchObject({ outcome: 'rejected' });
    expect(missing.problems).toEqual([
      { field: 'email', reason: expect.stringContaining('(from contact.email)') as string },
    ]);
    const negative = await settled('shop', `${noEmailHeaders['webhook-id']}#1`);
    expect(negative.problems?.[0]).toMatchObject({ field: 'quotas.pw_base_workstations' });
    expect(h.t.sim.state().tenants.filter((t) => /D-[234]$/.test(t.customer_id ?? ''))).toHaveLength(0);
  });

  it('refuses forged, unsigned, stale and oversized requests, recording nothing', async () => {
    const before = await store.outcomeCounts('shop');
    const body = JSON.stringify(deal('D-9'));
    const forged = await post('shop', body, signed(body, { secret: whsec() }));
    expect(forged.status).toBe(401);
    const unsigned = await post('shop', body, { 'content-type': 'application/json' });
    expect(unsigned.status).toBe(401);
    const stale = await post('shop', body, signed(body, { timestamp: unix() - 3600 }));
    expect(stale.status).toBe(401);
    const tampered = await post('shop', body.replace('D-9', 'D-8'), signed(body));
    expect(tampered.status).toBe(401);
    const big = 'x'.repeat(1024 * 1024 + 10);
    const oversized = await post('shop', big, signed(big));
    expect(oversized.status).toBe(413);
    expect(await store.outcomeCounts('shop')).toEqual(before);
  });

  it('a signed body that is not JSON is answered 400 and kept as a rejected event with the reason', async () => {
    const body = '{"deal_id": "D-5",';
    const response = await post('shop', body, signed(body));
    expect(response.status).toBe(400);
    const latest = await store.latestEvents('shop', 1);
    expect(latest[0]).toMatchObject({ outcome: 'rejected', reason: expect.stringContaining('not JSON') as string });
  });

  it('an unknown source is 404', async () => {
    expect((await post('nope', '{}', signed('{}'))).status).toBe(404);
  });
});

describe('generic sources authenticated by a header', () => {
  it('a Bearer token onboards a body in our own field names; an unknown field is rejected, a wrong token 401', async () => {
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${secrets.token}` };
    const customer = { name: `Desk ${tag}`, email: `it@desk-${tag.toLowerCase()}.example`, external_id: `desk-${tag}` };
    const ok = await post('helpdesk', JSON.stringify(customer), auth);
    expect(ok.status).toBe(202);
    const eventId = (ok.body.events as { event_id: string }[])[0]!.event_id;
    expect(await settled('helpdesk', eventId)).toMatchObject({ outcome: 'onboarding', customer: `desk-${tag}` });
    const again = await post('helpdesk', JSON.stringify(customer), auth);
    expect(again.body).toMatchObject({ accepted: 0, duplicates: 1 });

    const unknown = await post(
      'helpdesk',
      JSON.stringify({ ...customer, external_id: `x-${tag}`, colour: 'red' }),
      auth,
    );
    const unknownId = (unknown.body.events as { event_id: string }[])[0]!.event_id;
    const rejected = await settled('helpdesk', unknownId);
    expect(rejected).toMatchObject({
      outcome: 'rejected',
      problems: [{ field: '(customer)', reason: 'unknown field(s) colour' }],
    });

    const wrong = await post('helpdesk', JSON.stringify(customer), { ...auth, authorization: 'Bearer nope' });
    expect(wrong.status).toBe(401);
  });

  it('HTTP Basic: the right user and password are accepted, a wrong password refused', async () => {
    const basic = (user: string, password: string) => ({
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });
    const body = JSON.stringify({ name: `Legacy ${tag}`, email: `it@legacy-${tag.toLowerCase()}.example` });
    expect((await post('legacy', body, basic(secrets.user, secrets.password))).status).toBe(202);
    expect((await post('legacy', body, basic(secrets.user, 'wrong'))).status).toBe(401);
  });

  it('refusals on a source route count toward the webhook’s per-address limit', async () => {
    const server = await h.startServer({ limits: { maxAuthFailuresPerMinute: 2 } });
    const send = (path: string, headers: Record<string, string>) =>
      fetch(`${server.url}${path}`, { method: 'POST', body: '{}', headers }).then((r) => r.status);
    expect(await send('/webhooks/sources/helpdesk', { authorization: 'Bearer wrong' })).toBe(401);
    expect(await send('/webhooks/sources/helpdesk', { authorization: 'Bearer wrong' })).toBe(401);
    expect(await send('/webhooks/customers', { 'content-type': 'application/json', 'x-signature': 't=1,v1=00' })).toBe(
      429,
    );
  });
});
