import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardPipeline, type DashboardPipeline } from '../helpers/dashboard.js';
import { postWebhook } from '../helpers/webhook.js';
import { childNamed, runAdopt } from './helpers.js';

/**
 * The dashboard shows an adopted customer as any other: in its batch, on its page with its steps;
 * a webhook customer meeting an unstamped tenant's name fails naming the adopt command.
 */
let t: DashboardPipeline;

beforeAll(async () => {
  t = await startDashboardPipeline({ label: 'adopt-dash', sim: { customers: 2 } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('the dashboard on adopted customers', { timeout: 120_000 }, () => {
  it('lists the adoption batch, and the customer page shows the adoption steps done', async () => {
    const report = await runAdopt(t, { tenant: 'Existing Customer 1', externalId: 'crm-1' });
    const batchId = report.queued!.result.batch.id;
    expect(await t.waitForBatch(batchId)).toMatchObject({ done: 1 });
    const client = t.client();
    await client.signIn();
    const overview = await client.get('/');
    expect(overview.text).toContain(batchId);
    const batch = await client.get(`/batches/${batchId}`);
    expect(batch.status).toBe(200);
    expect(batch.text).toContain('Existing Customer 1');
    const customer = await client.get('/customers/crm-1');
    expect(customer.status).toBe(200);
    expect(customer.text).toContain(childNamed(t, 'Existing Customer 1').id);
    for (const step of ['adopt-tenant', 'adopt-read-back']) expect(customer.text).toContain(step);
    expect(customer.text).toMatch(/customer_id set to &quot;crm-1&quot;|customer_id set to "crm-1"/);
  });

  it('a webhook customer whose name an unstamped tenant holds fails naming the adopt command, on its page too', async () => {
    const tenant = childNamed(t, 'Existing Customer 2');
    const body = { customers: [{ name: 'Existing Customer 2', email: 'it@two.example', external_id: 'hook-2' }] };
    const sent = await postWebhook(t.url, 'dashboard-test-webhook-secret', body);
    expect(sent.status).toBe(202);
    expect(await t.waitForBatch(sent.body.batch_id as string)).toMatchObject({ failed: 1 });
    const command = `acronis-onboard adopt --tenant ${tenant.id} --external-id hook-2`;
    expect((await t.pipeline.store.getCustomer('hook-2'))?.error).toContain(command);
    const client = t.client();
    await client.signIn();
    expect((await client.get('/customers/hook-2')).text).toContain(command);
  });
});
