import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandardWebhook, verifyStandardWebhook } from '../../src/sources/generic/standard-webhooks.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { dumpKeys } from '../helpers/redis.js';
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
  // A source with a profile of its own (per gigabyte, production pricing, password activation).
  writeFileSync(
    join(dir, 'gb.json'),
    JSON.stringify({
      kind: 'generic',
      profile: resolve(import.meta.dirname, '../../profiles/per-gigabyte.json'),
      settings: { auth: { scheme: 'bearer', token_env: env('TOKEN') } },
    }),
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
      const body = Buffer.concat(chunks).toString('utf8');
      callbacks.push({ headers: req.headers, body });
      // D-6: the receiver is down once, then takes it; D-7: it refuses it for good.
      const seen = callbacks.filter((c) => c.body === body).length;
      const status = body.includes('shop:D-7') ? 410 : body.includes('shop:D-6') && seen === 1 ? 503 : 204;
      res.writeHead(status).end();
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
    const page = await fetch(`${h.url}/customers/${encodeURIComponent('shop:D-1')}`).then((r) => r.text());
    expect(page).toMatch(
      /Written back to (<a href="\/sources">)?shop(<\/a>)?[\s\S]*customer D-1[\s\S]*<strong>written<\/strong> \(customer done\)/,
    );
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
    // Without a Content-Length (chunked), the body is cut at 1 MiB.
    const chunked = await fetch(`${h.url}/webhooks/sources/shop`, {
      method: 'POST',
      headers: signed(big),
      body: new Blob([big]).stream(),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
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

describe('writing back', () => {
  const sendDeal = async (id: string, email?: string) => {
    const body = JSON.stringify(deal(id, email ? { email } : {}));
    const headers = signed(body);
    await post('shop', body, headers);
    const event = await settled('shop', `${headers['webhook-id']}#0`);
    await h.t.waitForBatch(event.batchId as string);
  };

  it('a receiver that fails once is tried again; one that refuses (4xx) is given up, the reason kept', async () => {
    await Promise.all([sendDeal('D-6'), sendDeal('D-7')]);
    await until(async () => (await store.writeBack('shop:D-6'))?.state === 'written', 'D-6 written back');
    expect(await store.writeBack('shop:D-6')).toMatchObject({ state: 'written', attempts: 2, result: 'done' });
    await until(async () => (await store.writeBack('shop:D-7'))?.state === 'failed', 'D-7 given up');
    expect(await store.writeBack('shop:D-7')).toMatchObject({
      attempts: 1,
      error: expect.stringContaining('the receiver answered 410') as string,
    });
    expect(callbacks.filter((c) => c.body.includes('shop:D-7'))).toHaveLength(1);
  });

  it('a customer that fails is written back as failed, with the reason', async () => {
    // D-1's admin login is taken by D-1: D-8's create-user meets a conflict it cannot adopt.
    await sendDeal('D-8', `it@d-1-${tag.toLowerCase()}.example`);
    await until(async () => (await store.writeBack('shop:D-8'))?.state === 'written', 'D-8 written back');
    const call = callbacks.find((c) => c.body.includes('shop:D-8'));
    expect(JSON.parse(call!.body)).toMatchObject({
      type: 'customer.failed',
      data: { state: 'failed', reason: expect.stringContaining('create-user') as string },
    });
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

  it('a source with a profile of its own onboards with it, whatever the server’s profile', async () => {
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${secrets.token}` };
    const customer = { name: `Gigabyte ${tag}`, email: `it@gb-${tag.toLowerCase()}.example`, external_id: `gb-${tag}` };
    const response = await post('gb', JSON.stringify(customer), auth);
    const event = await settled('gb', (response.body.events as { event_id: string }[])[0]!.event_id);
    await h.t.waitForBatch(event.batchId as string);
    const { tenant } = expectEachOnboardedOnce(h.t.sim.state(), [customer])[0]!;
    const enabled = h.t.sim.state().offeringItems[tenant.id]!.filter((i) => i.status === 1);
    expect(enabled.map((i) => i.edition).filter((e) => e !== null)).toContain('pck_per_gigabyte');
    expect(enabled.some((i) => i.edition === 'pck_per_workload')).toBe(false);
    expect(h.t.sim.state().pricing[tenant.id]).toMatchObject({ mode: 'production' });
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

describe('secrets', () => {
  it('no source secret, token or password reaches a log line or Redis', async () => {
    const everything = `${h.t.logs.join('')}\n${await dumpKeys(h.t.redis, h.t.prefix)}`;
    for (const [name, value] of Object.entries(secrets)) {
      if (name === 'user') continue;
      expect(everything.includes(value), name).toBe(false);
      // The key bytes of a whsec_ secret neither.
      if (value.startsWith('whsec_')) expect(everything.includes(value.slice(6)), `${name} body`).toBe(false);
    }
  });
});
