import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv } from '../../src/producers/csv-import.js';
import type { Producer } from '../../src/producers/producer.js';
import { csvOf, openTestProducer, tempCsv } from '../helpers/csv.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { postWebhook, startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';
import { until } from '../helpers/wait.js';

/**
 * The CSV import and the webhook end in the same enqueue function: the same customer from
 * both, in either order and at any stage of its onboarding, is one tenant and one user.
 */

let h: WebhookHarness;
let producer: Producer;

beforeAll(async () => {
  h = await startWebhookHarness({ label: 'both-producers' });
  producer = await openTestProducer(h.t);
});
afterAll(async () => {
  await h?.close();
});

describe('the same customer from the CSV import and from the webhook', () => {
  it('is onboarded once, whether the second request arrives while it is queued or after it is done', async () => {
    const customers = sampleCustomers(6, 'Both');
    const [first, second, third] = customers as [(typeof customers)[0], (typeof customers)[0], (typeof customers)[0]];

    // No worker yet: the CSV's customers sit queued when the webhook repeats two of them.
    const report = await importCsv({ producer, path: tempCsv('both.csv', csvOf(customers.slice(0, 4))) });
    expect(report.badRowCount).toBe(0);
    expect(report.outcomes.new).toBe(4);
    const whileQueued = await postWebhook(h.url, h.secret, { customers: [first, second] });
    expect(whileQueued.status).toBe(202);
    expect(whileQueued.body.accepted).toBe(0);
    expect(whileQueued.body.duplicates).toBe(2);

    // The webhook alone brings the last two; one of them is also in a second CSV below.
    const fromWebhook = await postWebhook(h.url, h.secret, { customers: customers.slice(4) });
    expect(fromWebhook.status).toBe(202);
    expect(fromWebhook.body.accepted).toBe(2);

    await h.t.startWorkers();
    await h.t.waitForBatch(report.batch!.id);
    await h.t.waitForBatch(fromWebhook.body.batch_id);

    // Done now: the webhook again (a new delivery, with a different name spelling) and a CSV re-import queue nothing.
    const afterDone = await postWebhook(h.url, h.secret, { ...third, name: third.name.toUpperCase() });
    expect(afterDone.status).toBe(202);
    expect(afterDone.body.accepted).toBe(0);
    const again = await importCsv({ producer, path: tempCsv('both-again.csv', csvOf([first, customers[5]!])) });
    expect(again.outcomes['already-onboarded']).toBe(2);
    expect(again.outcomes.new).toBe(0);

    const store = h.t.pipeline.store;
    await until(
      async () =>
        (await Promise.all(customers.map((c) => store.getCustomer(c.external_id!)))).every((r) => r?.state === 'done'),
      'every customer done',
    );
    const state = h.t.sim.state();
    expectEachOnboardedOnce(state, customers);
    const tenantPosts = Object.values(h.t.sim.stats().byEndpoint['POST /tenants'] ?? {}).reduce((a, b) => a + b, 0);
    expect(tenantPosts, 'POST /tenants calls').toBe(6);
  });
});
