import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type ServerResponse, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotSimulator, type HubSpotSimulator } from '../../src/simulator/hubspot/index.js';
import { wonDealSource } from '../../src/simulator/hubspot/source-file.js';
import type { AppEvent, WebhookSender } from '../../src/simulator/hubspot/webhook-sender.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { runCli } from '../helpers/cli.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * A source customer that failed, was written back as failed, then retried by the operator
 * (`acronis-onboard retry KEY`) and completed: its "done" reaches the source too (docs/sources.md
 * "Write-back"). HubSpot end to end: a deal won, the Acronis simulator refusing the role
 * assignment until the operator has seen the failure, the CLI's retry, the company's properties.
 * And a generic source whose callback receiver holds the "failed" write-back open while the
 * operator retries: the "done" follows it.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I23_RETRY_WB_${name}_${tag}`;
const clientSecret = randomBytes(16).toString('hex');
const accessToken = `pat-na1-${randomBytes(12).toString('hex')}`;
process.env[env('SECRET')] = clientSecret;
process.env[env('TOKEN')] = accessToken;
const bearer = randomBytes(24).toString('base64url');
process.env[env('BEARER')] = bearer;
process.env[env('CALLBACK')] = `whsec_${randomBytes(32).toString('base64')}`;

let hubspot: HubSpotSimulator;
let h: WebhookHarness;
let store: SourceIntakeStore;
let sender: WebhookSender;
/** The generic source's callback receiver: results as they came, and the answers held back. */
let receiver: Server;
const results: { state: string; customer: string }[] = [];
const held: ServerResponse[] = [];

function sourceDir(apiBaseUrl: string, callbackUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'i23-retry-wb-'));
  const source = wonDealSource(apiBaseUrl, { clientSecret: env('SECRET'), accessToken: env('TOKEN') });
  writeFileSync(join(dir, 'hubspot.json'), JSON.stringify(source));
  const generic = {
    kind: 'generic',
    mapping: { name: 'company.name', email: 'contact.email' },
    settings: {
      auth: { scheme: 'bearer', token_env: env('BEARER') },
      object_id: 'deal_id',
      callback: { url: callbackUrl, secret_env: env('CALLBACK') },
    },
  };
  writeFileSync(join(dir, 'held.json'), JSON.stringify(generic));
  return dir;
}

/** A failed result is answered only when the test says so; any other at once. */
function startReceiver(): Promise<string> {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
        data: { state: string; customer: string };
      };
      results.push(data);
      if (data.state === 'failed') held.push(res);
      else res.writeHead(204).end();
    });
  });
  return new Promise((resolve) =>
    receiver.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(receiver.address() as AddressInfo).port}/results`),
    ),
  );
}

beforeAll(async () => {
  hubspot = await startHubSpotSimulator({ clientSecret, accessToken });
  hubspot.defineCompanyProperties('acronis_tenant_id', 'acronis_admin_login', 'acronis_state');
  h = await startWebhookHarness({
    label: 'retry-write-back',
    // Two attempts per step: the fault below exhausts the step for sure.
    env: { SOURCES_DIR: sourceDir(hubspot.url, await startReceiver()), STEP_ATTEMPTS: '2', STEP_BACKOFF_MS: '100' },
    sources: { writeBackRecheckMs: 200 },
  });
  sender = hubspot.setWebhook({ mode: 'app', targetUrl: `${h.url}/webhooks/sources/hubspot`, retryDelaysMs: [200] });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  await h.t.startWorkers();
});

afterAll(async () => {
  for (const res of held) res.writeHead(204).end();
  await hubspot?.close();
  await h?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

/** The role assignment refused until the operator has seen the failure (two attempts exhaust it). */
const roleFault = () => ({
  kind: '5xx' as const,
  status: 503,
  methods: ['PUT'],
  path: '^/users/\\{user_id\\}/access_policies$',
});

async function settled(eventId: string): Promise<StoredEvent> {
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event('hubspot', eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `HubSpot event ${eventId} to be settled`);
  return event as StoredEvent;
}

describe('a source customer retried by the operator', () => {
  it('is written back as failed, then as done once the retry completes it', async () => {
    h.t.sim.configure({ faults: [roleFault()] });
    const { dealId, companyId } = hubspot.seedDeal({
      company: { name: `Retried ${tag} GmbH` },
      contact: { email: `it@retried-${tag.toLowerCase()}.example`, firstname: 'Rita', lastname: 'Retry' },
    });
    const key = `hubspot:${dealId}`;
    hubspot.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    const [sent] = JSON.parse(sender.attempts.at(-1)!.body) as AppEvent[];
    const event = await settled(`${sent!.subscriptionId}-${sent!.eventId}`);
    expect(event).toMatchObject({ outcome: 'onboarding', customer: key });
    expect(await h.t.waitForBatch(event.batchId as string)).toMatchObject({ done: 0, failed: 1 });

    // The failure reaches HubSpot first.
    await until(async () => (await store.writeBack(key))?.state === 'written', 'the failed write-back');
    expect(await store.writeBack(key)).toMatchObject({ state: 'written', result: 'failed' });
    const company = () => hubspot.store.get('companies', companyId)!.properties;
    expect(company()).toMatchObject({ acronis_state: 'failed' });

    // The operator fixes the cause and retries the customer from the command line.
    h.t.sim.configure({ faults: [] });
    const retry = await runCli(h.t, ['retry', key]);
    expect(retry.code, retry.stderr).toBe(0);
    expect(await h.t.waitForBatch(event.batchId as string)).toMatchObject({ done: 1, failed: 0 });

    await until(async () => (await store.writeBack(key))?.result === 'done', 'the done write-back');
    const tenant = h.t.sim.state().tenants.find((t) => t.customer_id === key)!;
    const user = h.t.sim.state().users.find((u) => u.tenant_id === tenant.id)!;
    await until(async () => company().acronis_state === 'done', "HubSpot's company to say done");
    expect(company()).toMatchObject({ acronis_tenant_id: tenant.id, acronis_admin_login: user.login });
    expect(hubspot.store.writeBacks.filter((w) => w.companyId === companyId)).toHaveLength(2);
  }, 180_000);
});

describe('a source customer retried while its failure is being written back', () => {
  it('is written back as done after the failed write ends', async () => {
    h.t.sim.configure({ faults: [roleFault()] });
    const key = `held:G-${tag}`;
    const body = JSON.stringify({
      deal_id: `G-${tag}`,
      company: { name: `Held ${tag} Ltd` },
      contact: { email: `it@held-${tag.toLowerCase()}.example` },
    });
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${bearer}` };
    const answer = await fetch(`${h.url}/webhooks/sources/held`, { method: 'POST', body, headers });
    expect(answer.status).toBe(202);
    await until(async () => (await h.t.pipeline.store.getCustomer(key))?.state === 'failed', 'the customer to fail');
    // The write-back of the failure is on its way: the receiver holds it open.
    await until(async () => held.length === 1, 'the failed result to reach the receiver');

    h.t.sim.configure({ faults: [] });
    const retry = await runCli(h.t, ['retry', key]);
    expect(retry.code, retry.stderr).toBe(0);
    await until(async () => (await h.t.pipeline.store.getCustomer(key))?.state === 'done', 'the retry to complete');
    // Its last step job has ended, so the step worker's nudge has come and gone.
    await until(async () => {
      const counts = await h.t.pipeline.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
      return Object.values(counts).every((n) => n === 0);
    }, 'the step jobs to end');

    held.shift()!.writeHead(204).end();
    await until(async () => results.some((r) => r.customer === key && r.state === 'done'), 'the done result');
    await until(async () => (await store.writeBack(key))?.result === 'done', 'the write-back record to say done');
    expect(results.filter((r) => r.customer === key).map((r) => r.state)).toEqual(['failed', 'done']);
  }, 180_000);
});
