import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotSimulator, type HubSpotSimulator } from '../../src/simulator/hubspot/index.js';
import { wonDealSource } from '../../src/simulator/hubspot/source-file.js';
import type { AppEvent, WebhookSender } from '../../src/simulator/hubspot/webhook-sender.js';
import { appSignatureHeaders } from '../../src/simulator/hubspot/webhook-sender.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * HubSpot end to end: the simulated HubSpot's own signed webhooks into `POST
 * /webhooks/sources/hubspot`, read back from its CRM API, onboarded on the Acronis simulator by
 * real workers, and the tenant written back to the HubSpot company; HubSpot's redelivery and a
 * second event for the same deal onboard nothing twice; a forged signature is refused.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I20_HUBSPOT_${name}_${tag}`;
const clientSecret = randomBytes(16).toString('hex');
const accessToken = `pat-na1-${randomBytes(12).toString('hex')}`;
process.env[env('SECRET')] = clientSecret;
process.env[env('TOKEN')] = accessToken;

let hubspot: HubSpotSimulator;
/** A second account whose deal workflow posts "Send a webhook" (v2), to its own source. */
let workflowHub: HubSpotSimulator;
let h: WebhookHarness;
let store: SourceIntakeStore;
let sender: WebhookSender;
let targetUrl: string;

function sourceFiles(apiBaseUrl: string, workflowApiBaseUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'i20-hubspot-'));
  const source = {
    ...wonDealSource(apiBaseUrl, { clientSecret: env('SECRET'), accessToken: env('TOKEN') }),
    rate_limit: { per_second: 20 },
  };
  writeFileSync(join(dir, 'hubspot.json'), JSON.stringify(source));
  const workflow = {
    kind: 'hubspot',
    trigger: { all: [{ field: 'deal.dealstage', equals: ['closedwon'] }] },
    mapping: { name: 'company.name', email: 'contact.email' },
    settings: {
      client_secret_env: env('SECRET'),
      access_token_env: env('TOKEN'),
      api_base_url: workflowApiBaseUrl,
      signature_versions: ['v2'],
    },
  };
  writeFileSync(join(dir, 'hubspot-workflow.json'), JSON.stringify(workflow));
  return dir;
}

beforeAll(async () => {
  hubspot = await startHubSpotSimulator({ clientSecret, accessToken, rateLimit: { max: 100, windowMs: 10_000 } });
  workflowHub = await startHubSpotSimulator({ clientSecret, accessToken });
  for (const account of [hubspot, workflowHub]) {
    account.defineCompanyProperties('acronis_tenant_id', 'acronis_admin_login', 'acronis_state');
  }
  h = await startWebhookHarness({
    label: 'hubspot-intake',
    env: { SOURCES_DIR: sourceFiles(hubspot.url, workflowHub.url) },
    sources: { writeBackRecheckMs: 200 },
  });
  targetUrl = `${h.url}/webhooks/sources/hubspot`;
  sender = hubspot.setWebhook({ mode: 'app', targetUrl, retryDelaysMs: [200] });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  await h.t.startWorkers();
});

afterAll(async () => {
  await hubspot?.close();
  await workflowHub?.close();
  await h?.close();
});

async function settled(eventId: string, source = 'hubspot'): Promise<StoredEvent> {
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event(source, eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `HubSpot event ${eventId} of ${source} to be settled`);
  return event as StoredEvent;
}

/** The events of the simulated HubSpot's latest request, as it sent them. */
function lastBatch(): AppEvent[] {
  return JSON.parse(sender.attempts.at(-1)!.body) as AppEvent[];
}

const eventIdOf = (event: AppEvent) => `${event.subscriptionId}-${event.eventId}`;

describe('HubSpot deal won, end to end', () => {
  let dealId: string;
  let companyId: string;

  it('the signed stage change onboards the company once, with the line item as a hard quota, and writes it back', async () => {
    ({ dealId, companyId } = hubspot.seedDeal({
      company: { name: `Müller ${tag} GmbH` },
      contact: { email: `it@mueller-${tag.toLowerCase()}.example`, firstname: 'Jana', lastname: 'Müller' },
      lineItems: [{ sku: 'ACR-CP-WS', name: 'Cyber Protect workstation', quantity: 12 }],
    }));
    hubspot.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    expect(sender.attempts.map((a) => a.status)).toEqual([200]);

    const event = await settled(eventIdOf(lastBatch()[0]!));
    expect(event).toMatchObject({ outcome: 'onboarding', customer: `hubspot:${dealId}` });
    await h.t.waitForBatch(event.batchId as string);
    const { tenant, user } = expectEachOnboardedOnce(h.t.sim.state(), [
      {
        name: `Müller ${tag} GmbH`,
        email: `it@mueller-${tag.toLowerCase()}.example`,
        external_id: `hubspot:${dealId}`,
      },
    ])[0]!;
    const workstations = h.t.sim.state().offeringItems[tenant.id]!.find((i) => i.name === 'pw_base_workstations');
    expect(workstations?.quota).toMatchObject({ value: 12 });
    // Remembered as the customer's own, so a later change keeps it (docs/lifecycle.md "Per-customer quotas").
    expect((await h.t.pipeline.store.getCustomer(`hubspot:${dealId}`))?.facts.ownQuotas).toEqual({ workstations: 12 });

    await until(async () => (await store.writeBack(`hubspot:${dealId}`))?.state === 'written', 'the write-back');
    expect(hubspot.store.get('companies', companyId)!.properties).toMatchObject({
      acronis_tenant_id: tenant.id,
      acronis_admin_login: user.login,
      acronis_state: 'done',
    });
    expect(hubspot.store.writeBacks.filter((w) => w.companyId === companyId)).toHaveLength(1);
  });

  it("HubSpot's redelivery of the same event, and a second stage change to won, onboard nothing twice", async () => {
    const counted = async () => Object.values(await store.outcomeCounts('hubspot')).reduce((a, b) => a + b, 0);
    const before = await counted();
    sender.redeliver(lastBatch());
    await sender.settled();
    expect(sender.attempts.at(-1)).toMatchObject({
      status: 200,
      answer: expect.stringContaining('"duplicates":1') as string,
    });
    expect(await counted()).toBe(before);

    hubspot.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    const second = await settled(eventIdOf(lastBatch()[0]!));
    expect(second.outcome).toBe('onboarding');
    expect(['already-onboarded', 'already-queued']).toContain(second.enqueued);
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === `hubspot:${dealId}`)).toHaveLength(1);
    expect(hubspot.window.refused).toBe(0);
  });

  it('a deal moved to another stage is ignored with the reason', async () => {
    const other = hubspot.seedDeal();
    hubspot.moveDealStage(other.dealId, 'contractsent');
    await sender.settled();
    expect(await settled(eventIdOf(lastBatch()[0]!))).toMatchObject({
      outcome: 'ignored',
      reason: 'deal stage is contractsent, not closedwon',
    });
  });

  it('a forged signature, a stale timestamp and a v1-only request are refused, recording nothing', async () => {
    const before = await store.outcomeCounts('hubspot');
    const body = JSON.stringify([{ ...lastBatch()[0]!, eventId: 999_999 }]);
    const post = (headers: Record<string, string>) =>
      fetch(targetUrl, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } }).then(
        (r) => r.status,
      );
    const forged = appSignatureHeaders('guessed-secret', targetUrl, body);
    expect(await post(forged)).toBe(401);
    expect(await post(appSignatureHeaders(clientSecret, targetUrl, body, Date.now() - 6 * 60 * 1000))).toBe(401);
    const { 'x-hubspot-signature': v1, 'x-hubspot-signature-version': version } = appSignatureHeaders(
      clientSecret,
      targetUrl,
      body,
    );
    expect(await post({ 'x-hubspot-signature': v1!, 'x-hubspot-signature-version': version! })).toBe(401);
    expect(await store.outcomeCounts('hubspot')).toEqual(before);
  });
});

describe('HubSpot workflow "Send a webhook", end to end', () => {
  it('the v2-signed deal JSON onboards once and is written back; its resend (same bytes) onboards nothing twice', async () => {
    const sender = workflowHub.setWebhook({
      mode: 'workflow',
      targetUrl: `${h.url}/webhooks/sources/hubspot-workflow`,
      retryDelaysMs: [200],
    });
    const { dealId, companyId } = workflowHub.seedDeal({
      company: { name: `Workflow ${tag} AG` },
      contact: { email: `ops@workflow-${tag.toLowerCase()}.example` },
    });
    workflowHub.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    const sent = sender.attempts.at(-1)!;
    expect(sent.status).toBe(200);
    const eventId = (JSON.parse(sent.answer!) as { events: { event_id: string }[] }).events[0]!.event_id;
    const event = await settled(eventId, 'hubspot-workflow');
    expect(event).toMatchObject({ outcome: 'onboarding', customer: `hubspot-workflow:${dealId}` });
    await h.t.waitForBatch(event.batchId as string);
    const { tenant } = expectEachOnboardedOnce(h.t.sim.state(), [
      {
        name: `Workflow ${tag} AG`,
        email: `ops@workflow-${tag.toLowerCase()}.example`,
        external_id: `hubspot-workflow:${dealId}`,
      },
    ])[0]!;

    // HubSpot's workflow retry resends the same bytes with the same v2 signature.
    const resend = await fetch(`${h.url}/webhooks/sources/hubspot-workflow`, {
      method: 'POST',
      body: sent.body,
      headers: sent.headers,
    });
    expect(resend.status).toBe(200);
    expect(await resend.json()).toMatchObject({ accepted: 0, duplicates: 1 });

    await until(
      async () => (await store.writeBack(`hubspot-workflow:${dealId}`))?.state === 'written',
      'the write-back',
    );
    expect(workflowHub.store.get('companies', companyId)!.properties).toMatchObject({
      acronis_tenant_id: tenant.id,
      acronis_state: 'done',
    });
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === `hubspot-workflow:${dealId}`)).toHaveLength(1);
  });
});
