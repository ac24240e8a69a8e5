import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardPipeline, type DashboardPipeline } from '../helpers/dashboard.js';
import { childNamed, runAdopt } from './helpers.js';

/** The dashboard shows an adopted customer as any other: in its batch, on its page with its steps. */
let t: DashboardPipeline;

beforeAll(async () => {
  t = await startDashboardPipeline({ label: 'adopt-dash', sim: { customers: 2 } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('the dashboard on adopted customers', () => {
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
});
