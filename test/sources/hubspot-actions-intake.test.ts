import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHubSpotSimulator, type HubSpotSimulator } from '../../src/simulator/hubspot/index.js';
import type { AppEvent, WebhookSender } from '../../src/simulator/hubspot/webhook-sender.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { calls, waitForActions } from '../helpers/lifecycle.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * Source triggers for lifecycle actions, end to end over HTTP: the simulated HubSpot's signed
 * stage changes into the intake, a deal lost suspends the tenant it onboarded on the Acronis
 * simulator (once, through HubSpot's redelivery and a second lost event), won again resumes it;
 * an offboard asked while offboarding from sources is off, and a deal never onboarded, are
 * ignored with why.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I22_HUBSPOT_${name}_${tag}`;
const clientSecret = randomBytes(16).toString('hex');
const accessToken = `pat-na1-${randomBytes(12).toString('hex')}`;
process.env[env('SECRET')] = clientSecret;
process.env[env('TOKEN')] = accessToken;

let hubspot: HubSpotSimulator;
/** A second account, whose source allows offboarding. */
let leaving: HubSpotSimulator;
let leavingSender: WebhookSender;
let h: WebhookHarness;
let store: SourceIntakeStore;
let sender: WebhookSender;
let sourceFile: string;

const stage = (...stages: string[]) => ({ all: [{ field: 'deal.dealstage', equals: stages, label: 'deal stage' }] });

function sourceDir(apiBaseUrl: string, leavingApiBaseUrl: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'i22-hubspot-'));
  const source = {
    kind: 'hubspot',
    rate_limit: { per_second: 20 },
    trigger: stage('closedwon'),
    actions: { suspend: stage('closedlost'), resume: stage('closedwon'), offboard: stage('churned') },
    mapping: { name: 'company.name', email: 'contact.email' },
    settings: {
      client_secret_env: env('SECRET'),
      access_token_env: env('TOKEN'),
      api_base_url: apiBaseUrl,
      signature_versions: ['v3'],
    },
  };
  sourceFile = join(dir, 'hubspot.json');
  writeFileSync(sourceFile, JSON.stringify(source));
  const allowing = {
    ...source,
    actions: { offboard: stage('churned'), allow_offboard: true },
    settings: { ...source.settings, api_base_url: leavingApiBaseUrl },
  };
  writeFileSync(join(dir, 'hubspot-leaving.json'), JSON.stringify(allowing));
  return dir;
}

beforeAll(async () => {
  hubspot = await startHubSpotSimulator({ clientSecret, accessToken });
  leaving = await startHubSpotSimulator({ clientSecret, accessToken });
  const dir = sourceDir(hubspot.url, leaving.url);
  h = await startWebhookHarness({ label: 'hubspot-actions', env: { SOURCES_DIR: dir } });
  sender = hubspot.setWebhook({ mode: 'app', targetUrl: `${h.url}/webhooks/sources/hubspot`, retryDelaysMs: [200] });
  leavingSender = leaving.setWebhook({
    mode: 'app',
    targetUrl: `${h.url}/webhooks/sources/hubspot-leaving`,
    retryDelaysMs: [200],
  });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  await h.t.startWorkers();
});

afterAll(async () => {
  await hubspot?.close();
  await leaving?.close();
  await h?.close();
});

async function settled(eventId: string, source = 'hubspot'): Promise<StoredEvent> {
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event(source, eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `HubSpot event ${eventId} to be settled`);
  return event as StoredEvent;
}

const lastBatch = (from = sender) => JSON.parse(from.attempts.at(-1)!.body) as AppEvent[];
const eventIdOf = (event: AppEvent) => `${event.subscriptionId}-${event.eventId}`;

/** Moves the deal and answers the intake's outcome of the event HubSpot sent for it. */
async function move(dealId: string, to: string, account = { hub: hubspot, sender, source: 'hubspot' }) {
  account.hub.moveDealStage(dealId, to);
  await account.sender.settled();
  const id = eventIdOf(lastBatch(account.sender)[0]!);
  return { ...(await settled(id, account.source)), id };
}

describe('HubSpot deal stages as lifecycle actions', () => {
  let dealId: string;
  let key: string;
  const tenant = () => h.t.sim.state().tenants.find((t) => t.customer_id === key)!;

  it('a deal won onboards the company (the resume trigger does not take a customer never onboarded)', async () => {
    ({ dealId } = hubspot.seedDeal({
      company: { name: `Lost ${tag} GmbH` },
      contact: { email: `it@lost-${tag.toLowerCase()}.example` },
    }));
    key = `hubspot:${dealId}`;
    const won = await move(dealId, 'closedwon');
    expect(won).toMatchObject({ outcome: 'onboarding', customer: key, enqueued: 'queued' });
    await h.t.waitForBatch(won.batchId as string);
    expect(tenant().enabled).toBe(true);
  });

  it('the deal moved to lost suspends the tenant, asked by the source event', async () => {
    h.t.sim.resetStats();
    const lost = await move(dealId, 'closedlost');
    expect(lost).toMatchObject({ outcome: 'action', action: 'suspend', customer: key });
    const [action] = await waitForActions(h.t, lost.batchId as string);
    expect(action).toMatchObject({
      action: 'suspend',
      state: 'done',
      outcome: 'disabled',
      requesterKind: 'source',
      requester: `source hubspot event ${lost.id}`,
    });
    expect(tenant().enabled).toBe(false);
    expect(calls(h.t, 'PUT /tenants/{tenant_id}')).toBe(1);
  });

  it("HubSpot's redelivery and a second lost event suspend nothing twice", async () => {
    const actionsBefore = await h.t.pipeline.actions.customerActions(key);
    sender.redeliver(lastBatch());
    await sender.settled();
    expect(sender.attempts.at(-1)).toMatchObject({
      status: 200,
      answer: expect.stringContaining('"duplicates":1') as string,
    });
    const again = await move(dealId, 'closedlost');
    expect(again.outcome).toBe('ignored');
    expect(again.reason).toMatch(
      /^suspend: customer hubspot:\d+ already asked by action \S+ \(done, source hubspot event/,
    );
    expect(await h.t.pipeline.actions.customerActions(key)).toHaveLength(actionsBefore.length);
    expect(calls(h.t, 'PUT /tenants/{tenant_id}')).toBe(1);
    expect(tenant().enabled).toBe(false);
  });

  it('an offboard asked while offboarding from sources is off is ignored, with how to allow it', async () => {
    const churned = await move(dealId, 'churned');
    expect(churned).toMatchObject({ outcome: 'ignored' });
    expect(churned.reason).toBe(
      `the event asks to offboard, and offboarding from sources is off: set "actions": { "allow_offboard": true } in ${sourceFile} to allow it`,
    );
    const timeline = await h.t.pipeline.actions.customerActions(key);
    expect(timeline.map((a) => a.action)).toEqual(['suspend']);
    expect(tenant().enabled).toBe(false);
  });

  it('the deal won again resumes the tenant', async () => {
    const won = await move(dealId, 'closedwon');
    expect(won).toMatchObject({ outcome: 'action', action: 'resume', customer: key });
    const [action] = await waitForActions(h.t, won.batchId as string);
    expect(action).toMatchObject({ action: 'resume', state: 'done', requester: `source hubspot event ${won.id}` });
    expect(tenant().enabled).toBe(true);
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === key)).toHaveLength(1);
  });

  it('a deal lost whose company this install never onboarded is ignored with why', async () => {
    const other = hubspot.seedDeal();
    const lost = await move(other.dealId, 'closedlost');
    expect(lost).toMatchObject({
      outcome: 'ignored',
      reason: `the event asks to suspend customer hubspot:${other.dealId}, which this install never onboarded`,
    });
  });
});

describe('a source that allows offboarding', () => {
  it('offboards as the CLI does: disabled now, deleted after the grace period', async () => {
    const account = { hub: leaving, sender: leavingSender, source: 'hubspot-leaving' };
    const { dealId } = leaving.seedDeal({
      company: { name: `Leaving ${tag} SA` },
      contact: { email: `it@leaving-${tag.toLowerCase()}.example` },
    });
    const key = `hubspot-leaving:${dealId}`;
    const won = await move(dealId, 'closedwon', account);
    await h.t.waitForBatch(won.batchId as string);

    const churned = await move(dealId, 'churned', account);
    expect(churned).toMatchObject({ outcome: 'action', action: 'offboard', customer: key });
    let actions: Awaited<ReturnType<typeof h.t.pipeline.actions.batchActions>> = [];
    await until(async () => {
      actions = await h.t.pipeline.actions.batchActions(churned.batchId as string);
      return actions[0]?.state === 'pending-deletion';
    }, 'the offboard to wait for its deletion');
    const deleteAt = Date.parse(actions[0]!.deleteAt!);
    // OFFBOARD_GRACE_DAYS' default, 30 days, from when the action ran (a day's slack for a slow run).
    expect(deleteAt - Date.parse(actions[0]!.createdAt)).toBeGreaterThan(29 * 24 * 3600 * 1000);
    expect(actions[0]).toMatchObject({ requester: `source hubspot-leaving event ${churned.id}` });
    const tenant = h.t.sim.state().tenants.find((t) => t.customer_id === key)!;
    expect(tenant.enabled).toBe(false);
  });
});
