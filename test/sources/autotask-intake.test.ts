import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../src/simulator/autotask/index.js';
import { customerCompanySource } from '../../src/simulator/autotask/source-file.js';
import type { OutboundWebhook } from '../../src/simulator/outbound-webhooks.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { dumpKeys } from '../helpers/redis.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * Autotask PSA end to end: the simulated Autotask's own signed callout (a company's type becomes
 * Customer) in over real HTTP, its company and primary contact read back from its REST API (the
 * zone looked up first), onboarded on the Acronis simulator by real workers, written back to the
 * company's UDFs; Autotask's retry and a second update of the same company onboard nothing twice;
 * forged, tampered and unsigned callouts are refused and counted.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I23AT_${name}_${tag}`;
const secretKey = `at-hook-${randomUUID()}`;
const credentials = {
  username: `api-${tag.toLowerCase()}@example.com`,
  secret: randomUUID(),
  integrationCode: randomUUID(),
};

let at: RunningAutotaskSimulator;
let h: WebhookHarness;
let store: SourceIntakeStore;

function sourceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'i23-at-'));
  const source = {
    ...customerCompanySource(at, {
      secretKey: env('HOOK'),
      username: env('USER'),
      secret: env('SECRET'),
      integrationCode: env('CODE'),
    }),
    rate_limit: { per_second: 50 },
  };
  writeFileSync(join(dir, 'autotask.json'), JSON.stringify(source));
  return dir;
}

beforeAll(async () => {
  at = await startAutotaskSimulator({ credentials, requestsPerSecond: 50, retryDelaysMs: [100, 200] });
  process.env[env('HOOK')] = secretKey;
  process.env[env('USER')] = credentials.username;
  process.env[env('SECRET')] = credentials.secret;
  process.env[env('CODE')] = credentials.integrationCode;
  h = await startWebhookHarness({
    label: 'autotask-intake',
    env: { SOURCES_DIR: sourceDir() },
    sources: { writeBackRecheckMs: 200 },
  });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  at.registerWebhook({
    url: `${h.url}/webhooks/sources/autotask`,
    deactivationUrl: `${h.url}/autotask-deactivated`,
    secretKey,
  });
  await h.t.startWorkers();
});

afterAll(async () => {
  await h?.close();
  await at?.close();
});

async function settled(eventId: string): Promise<StoredEvent> {
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event('autotask', eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `Autotask event ${eventId} to be settled`);
  return event as StoredEvent;
}

async function answered(callouts: OutboundWebhook[]): Promise<OutboundWebhook> {
  expect(callouts).toHaveLength(1);
  const callout = callouts[0] as OutboundWebhook;
  await until(async () => callout.attempts.length > 0, 'the callout to be answered');
  return callout;
}

function eventIdOf(callout: OutboundWebhook): string {
  const body = JSON.parse(callout.body) as { Guid: string; Id: number; SequenceNumber: number };
  return `${body.Guid}/company/${body.Id}/${body.SequenceNumber}`;
}

function prospect(name: string, email: string | null = `it@${name.toLowerCase()}-${tag.toLowerCase()}.example`) {
  return at.addCompany({
    companyName: `${name} ${tag}`,
    companyType: 3,
    contact: { firstName: 'Ada', lastName: 'Admin', emailAddress: email },
  });
}

async function post(body: string, headers: Record<string, string>, url = h.url): Promise<number> {
  const response = await fetch(`${url}/webhooks/sources/autotask`, { method: 'POST', body, headers });
  await response.arrayBuffer();
  return response.status;
}

describe('Autotask PSA through the intake', () => {
  it('onboards a company that becomes a Customer once, and writes the tenant to its UDFs', async () => {
    const { company, callouts: created } = prospect('Contoso');
    // A new prospect is a callout too: the trigger ignores it, saying why.
    expect(await settled(eventIdOf(await answered(created)))).toMatchObject({
      outcome: 'ignored',
      reason: 'company type is 3, not 1',
    });

    const callout = await answered(at.updateCompany(company.id, { companyType: 1 }).callouts);
    expect(callout.attempts).toEqual([200]);
    // Thin, as Autotask sends it: the subscribed field that changed and the display-always one.
    expect(Object.keys((JSON.parse(callout.body) as { Fields: object }).Fields).sort()).toEqual([
      'companyName',
      'companyType',
    ]);
    const event = await settled(eventIdOf(callout));
    expect(event).toMatchObject({ outcome: 'onboarding', customer: company.companyNumber, enqueued: 'queued' });
    await h.t.waitForBatch(event.batchId as string);
    const [onboarded] = expectEachOnboardedOnce(h.t.sim.state(), [
      { name: `Contoso ${tag}`, email: `it@contoso-${tag.toLowerCase()}.example`, external_id: company.companyNumber },
    ]);
    const { tenant, user } = onboarded!;

    await until(async () => (await store.writeBack(company.companyNumber))?.state === 'written', 'the write-back');
    expect(at.world.udf(company.id, 'Acronis tenant id')).toBe(tenant.id);
    expect(at.world.udf(company.id, 'Acronis admin login')).toBe(user.login);
    expect(at.world.udf(company.id, 'Acronis state')).toBe('onboarded');
    expect(at.world.writes.filter((w) => w.method === 'PATCH')).toHaveLength(1);
    expect(at.stats.zoneLookups).toBe(1);

    // Autotask's retry of the same callout, and a later update of the same company.
    at.redeliver(callout);
    await until(async () => callout.attempts.length === 2, 'the redelivery to be answered');
    expect(callout.attempts[1]).toBe(200);
    const away = await answered(at.updateCompany(company.id, { companyType: 2 }).callouts);
    expect(await settled(eventIdOf(away))).toMatchObject({ outcome: 'ignored', reason: 'company type is 2, not 1' });
    const again = await settled(eventIdOf(await answered(at.updateCompany(company.id, { companyType: 1 }).callouts)));
    expect(again.outcome).toBe('onboarding');
    expect(['already-onboarded', 'already-queued']).toContain(again.enqueued);
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === company.companyNumber)).toHaveLength(1);
    expect((await store.outcomeCounts('autotask')).received).toBe(4);
  });

  it('a primary contact without e-mail is rejected naming the field', async () => {
    const { company } = prospect('Nomail', null);
    const event = await settled(eventIdOf(await answered(at.updateCompany(company.id, { companyType: 1 }).callouts)));
    expect(event).toMatchObject({ outcome: 'rejected' });
    expect(event.problems?.[0]).toMatchObject({
      field: 'email',
      reason: expect.stringContaining('(from contact.emailAddress)'),
    });
  });

  it('refuses a forged, a tampered and an unsigned callout, recording nothing, and counts them per address', async () => {
    const { company, callouts: created } = prospect('Litware');
    await settled(eventIdOf(await answered(created)));
    const callout = await answered(at.updateCompany(company.id, { companyType: 2 }).callouts);
    await settled(eventIdOf(callout));
    const before = await store.outcomeCounts('autotask');
    const signed = { 'content-type': 'application/json', 'x-hook-signature': callout.headers['x-hook-signature']! };
    const forged = { ...signed, 'x-hook-signature': `sha1=${Buffer.alloc(20, 7).toString('base64')}` };
    const tampered = callout.body.replace('"companyType":2', '"companyType":1');

    const server = await h.startServer({ limits: { maxAuthFailuresPerMinute: 3 } });
    expect(await post(callout.body, forged, server.url)).toBe(401);
    expect(await post(tampered, signed, server.url)).toBe(401);
    expect(await post(callout.body, { 'content-type': 'application/json' }, server.url)).toBe(401);
    // The fourth refusal from the address is one too many: even a genuine callout waits now.
    expect(await post(callout.body, signed, server.url)).toBe(429);
    expect(await store.outcomeCounts('autotask')).toEqual(before);
  });

  it('keeps no credential and no webhook secret in Redis', async () => {
    const dump = await dumpKeys(h.t.redis, h.t.prefix);
    expect(dump).toContain('autotask');
    for (const secret of [secretKey, credentials.secret, credentials.integrationCode])
      expect(dump).not.toContain(secret);
  });
});
