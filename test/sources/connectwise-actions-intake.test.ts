import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CallbackDelivery } from '../../src/simulator/connectwise/callbacks.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { startTestConnectWise } from '../helpers/connectwise.js';
import { calls, waitForActions } from '../helpers/lifecycle.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * A ConnectWise agreement cancelled suspends the customer its `agreement/added` onboarded, end to
 * end: the simulated ConnectWise's signed callbacks over HTTP, read back from its API, the tenant
 * disabled on the Acronis simulator once through ConnectWise's retry of the same callback.
 */

type Cw = Awaited<ReturnType<typeof startTestConnectWise>>;

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I22CW_${name}_${tag}`;

let cw: Cw;
let h: WebhookHarness;
let store: SourceIntakeStore;

const managedBackup = { field: 'agreement.type', equals: ['Managed Backup'], label: 'agreement type' };

function sourceDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'i22-cw-'));
  const source = {
    kind: 'connectwise',
    rate_limit: { per_second: 50 },
    trigger: { event_types: ['agreement/added'], all: [managedBackup] },
    actions: {
      suspend: {
        event_types: ['agreement/updated'],
        all: [managedBackup, { field: 'agreement.cancelled', equals: [true], label: 'agreement cancelled' }],
      },
    },
    mapping: { name: 'company.name', external_id: 'company.identifier', email: 'contact.email' },
    settings: {
      api: {
        base_url: cw.apiUrl,
        company_id_env: env('COMPANY'),
        public_key_env: env('PUBLIC'),
        private_key_env: env('PRIVATE'),
        client_id_env: env('CLIENT'),
      },
      allow_insecure_test_host: true,
    },
  };
  writeFileSync(join(dir, 'connectwise.json'), JSON.stringify(source));
  return dir;
}

beforeAll(async () => {
  cw = await startTestConnectWise({ rateLimitPerSecond: 20, callbackRetryDelaysMs: [200, 400] });
  process.env[env('COMPANY')] = cw.credentials.companyId;
  process.env[env('PUBLIC')] = cw.credentials.publicKey;
  process.env[env('PRIVATE')] = cw.credentials.privateKey;
  process.env[env('CLIENT')] = cw.credentials.clientId;
  h = await startWebhookHarness({ label: 'connectwise-actions', env: { SOURCES_DIR: sourceDir() } });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  cw.registerCallback(`${h.url}/webhooks/sources/connectwise`);
  await h.t.startWorkers();
});

afterAll(async () => {
  await h?.close();
  await cw?.close();
});

/** The outcome of the one callback the change sent, once the intake settled it. */
async function settledOne(deliveries: CallbackDelivery[]): Promise<StoredEvent & { delivery: CallbackDelivery }> {
  expect(deliveries).toHaveLength(1);
  const delivery = deliveries[0] as CallbackDelivery;
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event('connectwise', eventHashOf(delivery.messageId));
    return event !== undefined && event.outcome !== 'received';
  }, `ConnectWise callback ${delivery.messageId} to be settled`);
  return { ...(event as StoredEvent), delivery };
}

describe('ConnectWise agreement cancelled', () => {
  it('suspends the tenant its agreement onboarded, once through a retried callback', async () => {
    const company = cw.addCompany({
      identifier: `Fabrikam-${tag}`,
      name: `Fabrikam ${tag}`,
      contact: { firstName: 'Ada', lastName: 'Admin', email: `it@fabrikam-${tag.toLowerCase()}.example` },
    });
    const key = `Fabrikam-${tag}`;
    const added = cw.addAgreement(company.id, { name: 'Cyber Protect', type: 'Managed Backup' });
    const onboarding = await settledOne(added.deliveries);
    expect(onboarding).toMatchObject({ outcome: 'onboarding', customer: key });
    await h.t.waitForBatch(onboarding.batchId as string);
    const tenant = () => h.t.sim.state().tenants.find((t) => t.customer_id === key)!;
    expect(tenant().enabled).toBe(true);

    h.t.sim.resetStats();
    const cancelled = await settledOne(cw.cancelAgreement(added.agreement.id).deliveries);
    expect(cancelled).toMatchObject({ outcome: 'action', action: 'suspend', customer: key });
    const [action] = await waitForActions(h.t, cancelled.batchId as string);
    expect(action).toMatchObject({
      state: 'done',
      outcome: 'disabled',
      requester: `source connectwise event ${cancelled.delivery.messageId}`,
    });
    expect(tenant().enabled).toBe(false);

    cw.redeliver(cancelled.delivery);
    await cw.callbacksSettled();
    expect(cancelled.delivery.attempts.at(-1)).toBe(200);
    expect((await store.event('connectwise', eventHashOf(cancelled.delivery.messageId)))?.outcome).toBe('action');
    expect(await h.t.pipeline.actions.customerActions(key)).toHaveLength(1);
    expect(calls(h.t, 'PUT /tenants/{tenant_id}')).toBe(1);
  });
});
