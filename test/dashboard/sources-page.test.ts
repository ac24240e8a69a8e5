import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signStandardWebhook } from '../../src/sources/generic/standard-webhooks.js';
import { SourceIntakeStore } from '../../src/sources/intake-store.js';
import { DashboardClient } from '../helpers/dashboard.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * The console's view of the sources (issue 20, item 7): /metrics counts events by source and
 * outcome and the calls to the source's API by result; the Sources page lists each source's
 * events with why, escaped, linking the customers; the customer page shows its write-back.
 * A generic source signs with Standard Webhooks; its callback receiver refuses the first write-back.
 */
const tag = randomUUID().slice(0, 8).toUpperCase();
const SHOP_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const CALLBACK_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
const METRICS_TOKEN = `metrics-${randomUUID()}`;
process.env[`I20C_SHOP_${tag}`] = SHOP_SECRET;
process.env[`I20C_CALLBACK_${tag}`] = CALLBACK_SECRET;

let receiver: Server;
let callbackCalls = 0;
let h: WebhookHarness;
let store: SourceIntakeStore;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(++callbackCalls === 1 ? 503 : 204).end());
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const dir = mkdtempSync(join(tmpdir(), 'i20-console-'));
  const shop = {
    kind: 'generic',
    trigger: { all: [{ field: 'deal.status', equals: ['won'], label: 'deal status' }] },
    mapping: { name: 'company.name', email: 'contact.email' },
    settings: {
      auth: { scheme: 'standard-webhooks', secret_env: `I20C_SHOP_${tag}` },
      object_id: 'deal_id',
      callback: {
        url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/done`,
        secret_env: `I20C_CALLBACK_${tag}`,
      },
    },
  };
  writeFileSync(join(dir, 'shop.json'), JSON.stringify(shop));
  h = await startWebhookHarness({
    label: 'sources-page',
    env: { SOURCES_DIR: dir, METRICS_TOKEN, DASHBOARD_USER: 'ops', DASHBOARD_PASSWORD: 'correct-horse-battery' },
    sources: { writeBackRecheckMs: 200 },
  });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  await h.t.startWorkers();
});
afterAll(async () => {
  await h?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

async function send(deal: Record<string, unknown>): Promise<void> {
  const body = JSON.stringify(deal);
  const id = `msg_${randomUUID()}`;
  const ts = Math.floor(Date.now() / 1000);
  const response = await fetch(`${h.url}/webhooks/sources/shop`, {
    method: 'POST',
    body,
    headers: {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(ts),
      'webhook-signature': signStandardWebhook(SHOP_SECRET, id, ts, body),
    },
  });
  expect(response.status).toBe(202);
}

const deal = (id: string, status: string, email: string) => ({
  deal_id: id,
  deal: { status },
  company: { name: `Console ${tag} ${id}` },
  contact: { email },
});

async function metricsText(): Promise<string> {
  const response = await fetch(`${h.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  return response.text();
}

const sample = (text: string, name: string, labels: string) =>
  Number(new RegExp(`^${name}\\{${labels}\\} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);

describe('the sources in the console', () => {
  beforeAll(async () => {
    await send(deal('W-1', 'won', `it@w1-${tag.toLowerCase()}.example`));
    await send(deal('O-1', '<b>open</b>', 'it@o1.example'));
    await send(deal('R-1', 'won', 'not-an-email'));
    await until(async () => (await store.outcomeCounts('shop')).received === 3, 'three events recorded');
    await until(
      async () => (await store.latestEvents('shop')).every((e) => e.outcome !== 'received'),
      'every event settled',
    );
    await until(async () => (await store.writeBack('shop:W-1'))?.state === 'written', 'the write-back, after a 503');
  });

  it('counts events by source and outcome, and read-backs and write-backs by result, without a secret', async () => {
    const text = await metricsText();
    const events = 'acronis_onboard_source_events_total';
    expect(sample(text, events, 'source="shop",outcome="received"')).toBe(3);
    expect(sample(text, events, 'source="shop",outcome="onboarding"')).toBe(1);
    expect(sample(text, events, 'source="shop",outcome="ignored"')).toBe(1);
    expect(sample(text, events, 'source="shop",outcome="rejected"')).toBe(1);
    expect(sample(text, events, 'source="shop",outcome="failed"')).toBe(0);
    const calls = 'acronis_onboard_source_calls_total';
    expect(sample(text, calls, 'source="shop",call="read_back",result="ok"')).toBe(3);
    expect(sample(text, calls, 'source="shop",call="write_back",result="503"')).toBe(1);
    expect(sample(text, calls, 'source="shop",call="write_back",result="ok"')).toBe(1);
    for (const secret of [SHOP_SECRET, CALLBACK_SECRET, SHOP_SECRET.slice(6), CALLBACK_SECRET.slice(6)])
      expect(text).not.toContain(secret);
  });

  it('the Sources page, behind the sign-in, lists the events by outcome with why, escaped, and links the customer', async () => {
    const client = new DashboardClient(h.url);
    expect((await client.get('/sources')).status).toBe(303);
    await client.signIn();
    const page = await client.get('/sources');
    expect(page.status).toBe(200);
    expect(page.text).toContain('data-source="shop"');
    expect(page.text).toContain('generic');
    expect(page.text).toMatch(/data-outcome="onboarding">onboarding <b>1<\/b>/);
    expect(page.text).toMatch(/data-outcome="received">received <b>3<\/b>/);
    expect(page.text).toContain('href="/customers/shop%3AW-1"');
    expect(page.text).toContain('deal status is &lt;b&gt;open&lt;/b&gt;, not won');
    expect(page.text).not.toContain('<b>open</b>');
    expect(page.text).toMatch(/email: [^<]*not-an-email|email: is not an e-mail address/);
    expect((await client.get('/')).text).toContain('href="/sources"');
  });

  it('the customer page shows the write-back to its source', async () => {
    const client = new DashboardClient(h.url);
    await client.signIn();
    const page = await client.get('/customers/shop%3AW-1');
    expect(page.status).toBe(200);
    expect(page.text).toContain('id="write-back"');
    const card = page.text.replace(/\s+/g, ' ');
    expect(card).toContain('Written back to <a href="/sources">shop</a>');
    expect(card).toMatch(/customer W-1<\/span>: <strong>written<\/strong> \(customer done\), 2 attempt\(s\)/);
  });
});
