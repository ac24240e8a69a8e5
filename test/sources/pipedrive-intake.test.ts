import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutboundWebhook } from '../../src/simulator/outbound-webhooks.js';
import { startPipedriveSimulator, type RunningPipedriveSimulator } from '../../src/simulator/pipedrive/index.js';
import { wonDealSource } from '../../src/simulator/pipedrive/source-file.js';
import { ORGANIZATION_FIELDS } from '../../src/simulator/pipedrive/world.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { dumpKeys } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * Pipedrive end to end: the simulated Pipedrive's own webhook v2 (a deal's status changes to won)
 * in over real HTTP with its Basic credentials, the organization, person and deal products read
 * back, onboarded on the Acronis simulator by real workers with the products as a hard quota,
 * written back to the organization's custom fields; Pipedrive's retry (attempt 2) and the deal won
 * again onboard nothing twice; a wrong password, no credentials and a wrong user are refused and
 * counted.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I23PD_${name}_${tag}`;
const webhookUser = 'acronis-onboard';
const webhookPassword = `pd-${randomUUID()}`;
const apiToken = randomUUID().replaceAll('-', '');

let pd: RunningPipedriveSimulator;
let h: WebhookHarness;
let store: SourceIntakeStore;

function sourceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'i23-pd-'));
  const base = wonDealSource(pd, { user: env('USER'), password: env('PASSWORD'), token: env('TOKEN') });
  const source = {
    ...base,
    rate_limit: { per_second: 50 },
    settings: { ...base.settings, write_back: { mode: 'fields', fields: ORGANIZATION_FIELDS } },
  };
  writeFileSync(join(dir, 'pipedrive.json'), JSON.stringify(source));
  return dir;
}

beforeAll(async () => {
  pd = await startPipedriveSimulator({ apiToken, retryDelaysMs: [100, 200, 300] });
  process.env[env('USER')] = webhookUser;
  process.env[env('PASSWORD')] = webhookPassword;
  process.env[env('TOKEN')] = apiToken;
  h = await startWebhookHarness({
    label: 'pipedrive-intake',
    env: { SOURCES_DIR: sourceDir() },
    sources: { writeBackRecheckMs: 200 },
  });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  pd.registerWebhook({ url: `${h.url}/webhooks/sources/pipedrive`, user: webhookUser, password: webhookPassword });
  await h.t.startWorkers();
});

afterAll(async () => {
  await h?.close();
  await pd?.close();
});

async function settled(webhook: OutboundWebhook): Promise<StoredEvent> {
  const eventId = (JSON.parse(webhook.body) as { meta: { id: string } }).meta.id;
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event('pipedrive', eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `Pipedrive event ${eventId} to be settled`);
  return event as StoredEvent;
}

async function answered(webhooks: OutboundWebhook[]): Promise<OutboundWebhook> {
  expect(webhooks).toHaveLength(1);
  const webhook = webhooks[0] as OutboundWebhook;
  await until(async () => webhook.attempts.length > 0, 'the webhook to be answered');
  return webhook;
}

function deal(name: string, email: string | null = `it@${name.toLowerCase()}-${tag.toLowerCase()}.example`) {
  return pd.addDeal({
    organization: `${name} ${tag}`,
    person: { firstName: 'Ada', lastName: 'Admin', email },
    products: [
      { name: 'Acronis Workstation', quantity: 25 },
      { name: 'Onboarding service', quantity: 1 },
    ],
  });
}

async function post(body: string, headers: Record<string, string>, url = h.url): Promise<number> {
  const response = await fetch(`${url}/webhooks/sources/pipedrive`, { method: 'POST', body, headers });
  await response.arrayBuffer();
  return response.status;
}

describe('Pipedrive through the intake', () => {
  it('onboards a won deal once, its products as a hard quota, and writes the tenant to the organization', async () => {
    const { deal: contoso, webhooks: created } = deal('Contoso');
    expect(await settled(await answered(created))).toMatchObject({
      outcome: 'ignored',
      reason: 'event type create.deal is not change.deal',
    });
    const webhook = await answered(pd.setDealStatus(contoso.id, 'won').webhooks);
    expect(webhook.attempts).toEqual([200]);
    const sent = JSON.parse(webhook.body) as { data: Record<string, unknown>; previous: Record<string, unknown> };
    // Thin, as Pipedrive sends it: the organization and the person by id only.
    expect(sent.data).toMatchObject({ org_id: contoso.org_id, person_id: contoso.person_id, status: 'won' });
    expect(sent.data).not.toHaveProperty('org_name');
    expect(sent.previous).toMatchObject({ status: 'open' });

    const event = await settled(webhook);
    const customer = `pipedrive:${contoso.id}`;
    expect(event).toMatchObject({ outcome: 'onboarding', customer, enqueued: 'queued' });
    await h.t.waitForBatch(event.batchId as string);
    const [onboarded] = expectEachOnboardedOnce(h.t.sim.state(), [
      { name: `Contoso ${tag}`, email: `it@contoso-${tag.toLowerCase()}.example`, external_id: customer },
    ]);
    const { tenant, user } = onboarded!;
    const workstations = h.t.sim.state().offeringItems[tenant.id]!.find((i) => i.name === 'pw_base_workstations');
    expect(workstations?.quota).toMatchObject({ value: 25 });

    await until(async () => (await store.writeBack(customer))?.state === 'written', 'the write-back');
    const fields = pd.world.organization(contoso.org_id!).custom_fields;
    expect(fields[ORGANIZATION_FIELDS.tenant_id]).toBe(tenant.id);
    expect(fields[ORGANIZATION_FIELDS.admin_login]).toBe(user.login);
    expect(fields[ORGANIZATION_FIELDS.state]).toBe('onboarded');
    expect(pd.world.writes.filter((w) => w.method === 'PATCH')).toHaveLength(1);

    // Pipedrive's retry (the same event, meta.attempt 2), then the deal lost and won again.
    pd.redeliver(webhook);
    await until(async () => webhook.attempts.length === 2, 'the redelivery to be answered');
    expect(webhook.attempts[1]).toBe(200);
    expect(JSON.parse(webhook.request(2).body)).toMatchObject({ meta: { attempt: 2 } });
    expect(await settled(await answered(pd.setDealStatus(contoso.id, 'lost').webhooks))).toMatchObject({
      outcome: 'ignored',
      reason: 'deal status is lost, not won',
    });
    const again = await settled(await answered(pd.setDealStatus(contoso.id, 'won').webhooks));
    expect(again.outcome).toBe('onboarding');
    expect(['already-onboarded', 'already-queued']).toContain(again.enqueued);
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === customer)).toHaveLength(1);
    expect((await store.outcomeCounts('pipedrive')).received).toBe(4);
  });

  it('a person without e-mail is rejected naming the field', async () => {
    const { deal: noMail } = deal('Nomail', null);
    const event = await settled(await answered(pd.setDealStatus(noMail.id, 'won').webhooks));
    expect(event).toMatchObject({ outcome: 'rejected' });
    expect(event.problems?.[0]).toMatchObject({
      field: 'email',
      reason: expect.stringContaining('(from person.email)'),
    });
  });

  it('refuses a wrong password, no credentials and a wrong user, recording nothing, and counts them per address', async () => {
    const { deal: litware, webhooks: created } = deal('Litware');
    await settled(await answered(created));
    const webhook = await answered(pd.setDealStatus(litware.id, 'lost').webhooks);
    await settled(webhook);
    const before = await store.outcomeCounts('pipedrive');
    const basic = (user: string, password: string) => ({
      'content-type': 'application/json',
      authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
    });

    const server = await h.startServer({ limits: { maxAuthFailuresPerMinute: 3 } });
    expect(await post(webhook.body, basic(webhookUser, `${webhookPassword}x`), server.url)).toBe(401);
    expect(await post(webhook.body, { 'content-type': 'application/json' }, server.url)).toBe(401);
    expect(await post(webhook.body, basic('someone', webhookPassword), server.url)).toBe(401);
    // The fourth refusal from the address is one too many: even the right credentials wait now.
    expect(await post(webhook.body, basic(webhookUser, webhookPassword), server.url)).toBe(429);
    expect(await store.outcomeCounts('pipedrive')).toEqual(before);
  });

  it('an authenticated body that cannot be read is kept as rejected and answered 200, so Pipedrive does not ban the webhook', async () => {
    const basic = `Basic ${Buffer.from(`${webhookUser}:${webhookPassword}`).toString('base64')}`;
    const status = await post('{"meta": {"action": "change"}}', {
      'content-type': 'application/json',
      authorization: basic,
    });
    expect(status).toBe(200);
    const latest = await store.latestEvents('pipedrive', 1);
    expect(latest[0]).toMatchObject({ outcome: 'rejected' });
  });

  it('keeps no credential and no webhook password in Redis', async () => {
    const dump = await dumpKeys(h.t.redis, h.t.prefix);
    expect(dump).toContain('pipedrive');
    for (const secret of [webhookPassword, apiToken]) expect(dump).not.toContain(secret);
  });
});
