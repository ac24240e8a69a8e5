import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { buildServer } from '../../src/server.js';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { blindStore, startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { newWebhookSecret, postWebhook } from '../helpers/webhook.js';

/**
 * `POST /webhooks/customers` on an install serving two partners in two simulated data centres
 * (docs/webhook.md "Partners"): the server of `serve` in this process, workers beside it.
 */

const secret = newWebhookSecret();
let t: TwoPartnerInstall;
let server: RunningServer;

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'webhook-partners', env: { WEBHOOK_SECRET: secret, PORT: '0' } });
  await t.startWorkers();
  server = await startServer(t.app);
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

const post = (body: unknown, deliveryId?: string) =>
  postWebhook(server.url, secret, body, deliveryId ? { deliveryId } : {});
const batchCount = async () => (await t.app.store.listBatches(1000)).length;

describe('the webhook with two partners', () => {
  it('queues each customer under the partner it names, and onboards it once in that data centre', async () => {
    const north = sampleCustomers(3, 'North', { partner: 'dc1' });
    const south = sampleCustomers(3, 'South', { partner: 'DC2' });
    const answer = await post({ customers: [...north, ...south] });
    expect(answer.status, answer.text).toBe(202);
    expect(answer.body.accepted).toBe(6);
    expect(await t.waitForBatch(answer.body.batch_id)).toMatchObject({ total: 6, done: 6 });
    expectEachOnboardedOnce(t.sims[0].state(), north);
    expectEachOnboardedOnce(t.sims[1].state(), south);
    const inDc1 = new Set(t.sims[0].state().tenants.map((x) => x.customer_id));
    for (const c of south) expect(inDc1.has(customerKeyOf(c))).toBe(false);
  });

  it('refuses a customer naming a partner the install does not serve: 400 naming the field and the known partners', async () => {
    const before = await batchCount();
    const answer = await post({
      customers: [...sampleCustomers(1, 'Fine'), ...sampleCustomers(1, 'Lost', { partner: 'mars' })],
    });
    expect(answer.status).toBe(400);
    expect(answer.body).toEqual({
      error: 'invalid request: nothing was queued',
      problems: [{ field: 'customers[1].partner', reason: 'unknown partner "mars": this install serves "dc1", "dc2"' }],
    });
    expect(await batchCount()).toBe(before);
    expect(await t.app.store.getCustomer('Fine-1')).toBeUndefined();
  });

  it('refuses a customer recorded under another partner like a bad customer; the corrected body then goes through', async () => {
    const before = await batchCount();
    const [north] = sampleCustomers(1, 'North');
    const moved = await post({ ...north, partner: 'dc2' }, 'move-north-1');
    expect(moved.status).toBe(400);
    expect(moved.body).toEqual({
      error: 'invalid request: nothing was queued',
      problems: [
        {
          field: 'partner',
          reason:
            'customer "North-1" is recorded under partner "dc1", not "dc2": moving a customer between partners is not supported',
        },
      ],
    });
    expect(await batchCount()).toBe(before);
    expect(await t.app.store.getCustomer('North-1')).toMatchObject({ partner: 'dc1', state: 'done' });
    // Refused before the delivery was claimed: its id is free for the corrected body.
    const corrected = await post({ ...north, partner: 'dc1' }, 'move-north-1');
    expect(corrected.status, corrected.text).toBe(202);
    expect(corrected.body.customers).toEqual([{ index: 0, customer: 'North-1', outcome: 'already-onboarded' }]);
  });

  it('answers 400, not 500, when the customer is recorded under another partner between its look and the enqueue', async () => {
    // The webhook's own look at the records sees nothing (another producer is faster); enqueue refuses.
    const blind = blindStore(t.producer.store);
    const racing = await buildServer({
      producer: { ...t.producer, store: blind },
      redis: t.app.redis,
      keys: t.app.keys,
      webhookSecrets: [secret],
      scheduleCallback: async () => undefined,
      logger: t.logger,
    });
    try {
      await racing.listen({ host: '127.0.0.1', port: 0 });
      const url = `http://127.0.0.1:${(racing.server.address() as AddressInfo).port}`;
      const [racer] = sampleCustomers(1, 'Racer');
      const first = await t.producer.enqueue({ source: 'test', label: 'racer' }, [racer!]);
      await t.waitForBatch(first.batch.id);
      const before = await batchCount();
      const moved = await postWebhook(
        url,
        secret,
        { customers: [{ ...racer, partner: 'dc2' }] },
        { deliveryId: 'race-1' },
      );
      expect(moved.status).toBe(400);
      expect(moved.body.problems).toEqual([
        {
          field: 'customers[0].partner',
          reason:
            'customer "Racer-1" is recorded under partner "dc1", not "dc2": moving a customer between partners is not supported',
        },
      ]);
      expect(await batchCount()).toBe(before);
      // Nothing was claimed: the same delivery id, corrected, goes through.
      const corrected = await postWebhook(url, secret, { customers: [racer] }, { deliveryId: 'race-1' });
      expect(corrected.status, corrected.text).toBe(202);
    } finally {
      await racing.close();
    }
  });
});
