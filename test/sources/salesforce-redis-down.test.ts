import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceSimulator, type SalesforceSimulator } from '../../src/simulator/salesforce/index.js';
import { wonOpportunitySource } from '../../src/simulator/salesforce/source-file.js';
import { eventHashOf, SourceIntakeStore } from '../../src/sources/intake-store.js';
import { startPrivateRedis, type PrivateRedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * Salesforce's resending meets the intake's one failure it can answer "later" to: with Redis down
 * the outbound message gets a SOAP Server fault (503), nothing is acknowledged, and the simulated
 * org sends it again until Redis is back and the acknowledgement comes. Redis is killed here, so
 * this file runs on a private redis-server, never the shared 6379.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I23_SF_DOWN_${name}_${tag}`;
let redis: PrivateRedisServer;
let salesforce: SalesforceSimulator;
let h: WebhookHarness;

beforeAll(async () => {
  redis = await startPrivateRedis();
  salesforce = await startSalesforceSimulator();
  process.env[env('ID')] = salesforce.clientId;
  process.env[env('SECRET')] = salesforce.clientSecret;
  const dir = mkdtempSync(join(tmpdir(), 'i23-salesforce-down-'));
  const file = wonOpportunitySource(salesforce.url, salesforce.organizationId, {
    clientId: env('ID'),
    clientSecret: env('SECRET'),
  });
  writeFileSync(join(dir, 'salesforce.json'), JSON.stringify(file));
  h = await startWebhookHarness({ label: 'salesforce-redis-down', env: { REDIS_URL: redis.url, SOURCES_DIR: dir } });
});

afterAll(async () => {
  await redis?.start().catch(() => undefined);
  await salesforce?.close();
  await h?.close();
  await redis?.destroy();
});

describe('Salesforce with Redis down', () => {
  it('the message gets a Server fault, is not acknowledged, and is resent until Redis is back and it is recorded', async () => {
    const sender = salesforce.setOutbound({
      targetUrl: `${h.url}/webhooks/sources/salesforce`,
      firstRetryMs: 100,
      maxRetryMs: 300,
    });
    await redis.kill();
    const { id } = salesforce.winOpportunity(salesforce.seedOpportunity().opportunityId);
    await until(async () => sender.attempts.some((a) => a.status === 503), 'a refused delivery while Redis is down');
    const refused = sender.attempts.find((a) => a.status === 503)!;
    expect(refused.acknowledged).toBe(false);
    expect(refused.answer).toContain('<faultcode>soapenv:Server</faultcode>');

    await redis.start();
    await sender.settled();
    const last = sender.attempts.at(-1)!;
    expect(last).toMatchObject({ status: 200, acknowledged: true, notificationIds: [id] });
    expect(sender.attempts.filter((a) => a.acknowledged)).toHaveLength(1);
    const store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
    expect(await store.event('salesforce', eventHashOf(id))).toMatchObject({ eventId: id });
  });
});
