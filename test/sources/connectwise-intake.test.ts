import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackDelivery } from '../../src/simulator/connectwise/callbacks.js';
import { addedAgreementSource } from '../../src/simulator/connectwise/source-file.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { startRecorder, startTestConnectWise } from '../helpers/connectwise.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { dumpKeys } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * ConnectWise PSA end to end: the simulated ConnectWise's own signed callback (agreement added) in
 * over real HTTP, verified with the key behind its key_url, read back from its API, onboarded on
 * the Acronis simulator by real workers, written back to the company's custom fields; a vendor
 * retry, a second agreement for the same company, a forged signature and a foreign key_url in the
 * same run.
 */

type Cw = Awaited<ReturnType<typeof startTestConnectWise>>;

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I20CW_${name}_${tag}`;

let cw: Cw;
let foreign: Awaited<ReturnType<typeof startRecorder>>;
let h: WebhookHarness;
let store: SourceIntakeStore;

function sourceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'i20-cw-'));
  const base = addedAgreementSource(cw.apiUrl, {
    companyId: env('COMPANY'),
    publicKey: env('PUBLIC'),
    privateKey: env('PRIVATE'),
    clientId: env('CLIENT'),
  });
  const source = {
    ...base,
    rate_limit: { per_second: 50 },
    mapping: { ...base.mapping, external_id: 'company.identifier' },
    settings: {
      ...base.settings,
      write_back: {
        mode: 'custom_fields',
        fields: {
          tenant_id: { caption: 'Acronis tenant id' },
          admin_login: { caption: 'Acronis admin login' },
          state: { caption: 'Acronis state' },
        },
      },
    },
  };
  writeFileSync(join(dir, 'connectwise.json'), JSON.stringify(source));
  return dir;
}

beforeAll(async () => {
  cw = await startTestConnectWise({ rateLimitPerSecond: 20, callbackRetryDelaysMs: [200, 400] });
  foreign = await startRecorder((_q, r) => r.end(JSON.stringify({ signing_key: 'attacker' })));
  process.env[env('COMPANY')] = cw.credentials.companyId;
  process.env[env('PUBLIC')] = cw.credentials.publicKey;
  process.env[env('PRIVATE')] = cw.credentials.privateKey;
  process.env[env('CLIENT')] = cw.credentials.clientId;
  h = await startWebhookHarness({
    label: 'connectwise-intake',
    env: { SOURCES_DIR: sourceDir() },
    sources: { writeBackRecheckMs: 200 },
  });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  cw.registerCallback(`${h.url}/webhooks/sources/connectwise`);
  await h.t.startWorkers();
});

afterAll(async () => {
  await h?.close();
  await cw?.close();
  await foreign?.close();
});

async function settled(eventId: string): Promise<StoredEvent> {
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event('connectwise', eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `ConnectWise event ${eventId} to be settled`);
  return event as StoredEvent;
}

async function delivered(deliveries: CallbackDelivery[]): Promise<CallbackDelivery> {
  expect(deliveries).toHaveLength(1);
  const delivery = deliveries[0] as CallbackDelivery;
  await until(async () => delivery.attempts.length > 0, 'the callback to be answered');
  return delivery;
}

function company(name: string, email: string | null = `it@${name.toLowerCase()}-${tag.toLowerCase()}.example`) {
  return cw.addCompany({
    identifier: `${name}-${tag}`,
    name: `${name} ${tag}`,
    contact: { firstName: 'Ada', lastName: 'Admin', email },
  });
}

async function post(body: string, headers: Record<string, string>): Promise<number> {
  const response = await fetch(`${h.url}/webhooks/sources/connectwise`, { method: 'POST', body, headers });
  await response.arrayBuffer();
  return response.status;
}

describe('ConnectWise PSA through the intake', () => {
  it('onboards an added agreement once, its addition as a hard quota, and writes the tenant back', async () => {
    const contoso = company('Contoso');
    const { deliveries } = cw.addAgreement(contoso.id, {
      name: 'Cyber Protect',
      type: 'Managed Backup',
      additions: [
        { product: 'ACR-WORKSTATION', quantity: 12 },
        { product: 'SUPPORT', quantity: 1 },
      ],
    });
    const delivery = await delivered(deliveries);
    expect(delivery.attempts).toEqual([200]);
    const event = await settled(delivery.messageId);
    expect(event).toMatchObject({ outcome: 'onboarding', customer: `Contoso-${tag}`, enqueued: 'queued' });
    await h.t.waitForBatch(event.batchId as string);
    const [onboarded] = expectEachOnboardedOnce(h.t.sim.state(), [
      { name: `Contoso ${tag}`, email: `it@contoso-${tag.toLowerCase()}.example`, external_id: `Contoso-${tag}` },
    ]);
    const { tenant, user } = onboarded!;
    const workstations = h.t.sim.state().offeringItems[tenant.id]!.find((i) => i.name === 'pw_base_workstations');
    expect(workstations?.quota).toMatchObject({ value: 12 });

    await until(async () => (await store.writeBack(`Contoso-${tag}`))?.state === 'written', 'the write-back');
    const fields = Object.fromEntries(cw.company(contoso.id).customFields.map((f) => [f.caption, f.value]));
    expect(fields).toEqual({
      'Acronis tenant id': tenant.id,
      'Acronis admin login': user.login,
      'Acronis state': 'onboarded',
    });
    expect(cw.world.writes.filter((w) => w.path.endsWith(`/company/companies/${contoso.id}`))).toHaveLength(1);

    // ConnectWise's retry of the same callback, and a second agreement for the same company.
    cw.redeliver(delivery);
    await until(async () => delivery.attempts.length === 2, 'the redelivery to be answered');
    expect(delivery.attempts[1]).toBe(200);
    const second = await delivered(
      cw.addAgreement(contoso.id, { name: 'More seats', type: 'Managed Backup' }).deliveries,
    );
    const again = await settled(second.messageId);
    expect(again.outcome).toBe('onboarding');
    expect(['already-onboarded', 'already-queued']).toContain(again.enqueued);
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === `Contoso-${tag}`)).toHaveLength(1);
    expect(cw.stats.keyFetches).toBe(1);
  });

  it('an agreement of another type is ignored with the reason; a contact without e-mail is rejected naming it', async () => {
    const fabrikam = company('Fabrikam');
    const other = await delivered(
      cw.addAgreement(fabrikam.id, { name: 'Hours', type: 'Time and Materials' }).deliveries,
    );
    expect(await settled(other.messageId)).toMatchObject({
      outcome: 'ignored',
      reason: 'agreement type is Time and Materials, not Managed Backup',
    });
    const noMail = company('Nomail', null);
    const rejected = await delivered(cw.addAgreement(noMail.id, { name: 'Backup', type: 'Managed Backup' }).deliveries);
    const event = await settled(rejected.messageId);
    expect(event).toMatchObject({ outcome: 'rejected' });
    expect(event.problems?.[0]).toMatchObject({
      field: 'email',
      reason: expect.stringContaining('(from contact.email)'),
    });
    expect(h.t.sim.state().tenants.filter((t) => /^(Fabrikam|Nomail)-/.test(t.customer_id ?? ''))).toHaveLength(0);
  });

  it('refuses a forged signature, a tampered body and a foreign key_url, recording nothing and fetching nothing', async () => {
    const litware = company('Litware');
    const delivery = await delivered(
      cw.addAgreement(litware.id, { name: 'Backup', type: 'Managed Backup' }).deliveries,
    );
    const before = await store.outcomeCounts('connectwise');
    const fetchesBefore = cw.stats.keyFetches;
    const headers = { 'content-type': 'application/json', 'x-content-signature': delivery.signature };

    expect(await post(delivery.body, { ...headers, 'x-content-signature': 'A'.repeat(43) + '=' })).toBe(401);
    expect(await post(delivery.body.replace('"Action":"added"', '"Action":"updated"'), headers)).toBe(401);
    expect(await post(delivery.body, { 'content-type': 'application/json' })).toBe(401);
    const body = JSON.parse(delivery.body) as { Metadata: { key_url: string } };
    body.Metadata.key_url = `${foreign.url}/v4_6_release//system/callbackkey/index.rails?id=1`;
    expect(await post(JSON.stringify(body), headers)).toBe(401);

    expect(foreign.received).toHaveLength(0);
    expect(cw.stats.keyFetches).toBe(fetchesBefore);
    expect(await store.outcomeCounts('connectwise')).toEqual(before);
  });

  it('keeps no credential and no signing key in Redis', async () => {
    const dump = await dumpKeys(h.t.redis, h.t.prefix);
    expect(dump).toContain('connectwise');
    const signingKeys = cw.world.callbacks.map((c) => c.signingKey);
    for (const secret of [
      cw.credentials.privateKey,
      cw.credentials.publicKey,
      cw.credentials.clientId,
      ...signingKeys,
    ]) {
      expect(dump).not.toContain(secret);
    }
  });
});
