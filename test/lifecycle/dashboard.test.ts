import { describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { dashboardWithWorkers } from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

const ctx = dashboardWithWorkers('lifecycle-dash');
const customers = sampleCustomers(3, 'DashLife');
const keys = customers.map(customerKeyOf);

describe('after day one on the dashboard', () => {
  it('suspends from the customer page, offboards only with the name typed, lists the pending deletion, and cancels it', async () => {
    const { t } = ctx;
    const { batch } = await t.enqueue(customers);
    await t.waitForBatch(batch.id);
    const client = t.client();
    await client.signIn();
    const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;
    const page = `/customers/${keys[0]}`;

    const forged = await client.post(`${page}/lifecycle`, { _csrf: 'forged', action: 'suspend' });
    expect(forged.status).toBe(403);

    await client.post(`${page}/lifecycle`, { _csrf: await client.csrfToken(page), action: 'suspend' });
    await until(async () => !tenantOf(keys[0]!).enabled, 'the suspend from the dashboard');
    const shown = await client.get(page);
    expect(shown.text).toMatch(/suspend<\/td>\s*<td><span class="badge (done|running|queued)/);
    expect(shown.text).toContain('operator: operator (dashboard)');

    const wrong = await client.post(`${page}/lifecycle`, {
      _csrf: await client.csrfToken(page),
      action: 'offboard',
      confirm_name: 'not its name',
    });
    expect(wrong.status).toBe(303);
    expect((await client.get(page)).text).toMatch(
      /nothing done: type the customer&#39;s name|nothing done: type the customer's name/,
    );
    expect(await t.pipeline.actions.pendingDeletions()).toEqual([]);

    await client.post(`${page}/lifecycle`, {
      _csrf: await client.csrfToken(page),
      action: 'offboard',
      confirm_name: customers[0]!.name,
    });
    await until(async () => (await t.pipeline.actions.pendingDeletions()).length === 1, 'the pending deletion');
    const list = await client.get('/lifecycle');
    expect(list.text).toContain('id="pending-deletions"');
    expect(list.text).toContain(customers[0]!.name);

    await client.post(`${page}/lifecycle`, { _csrf: await client.csrfToken(page), action: 'cancel' });
    await until(async () => tenantOf(keys[0]!).enabled, 'the resume after the cancel');
    expect(await t.pipeline.actions.pendingDeletions()).toEqual([]);
  });

  it("a batch action from the batch page: an offboard needs the count typed, a suspend doesn't", async () => {
    const { t } = ctx;
    const client = t.client();
    await client.signIn();
    const batchId = (await t.pipeline.store.getCustomer(keys[1]!))!.batchId;
    const page = `/batches/${batchId}`;
    await client.post(`${page}/lifecycle`, {
      _csrf: await client.csrfToken(page),
      action: 'offboard',
      yes_delete: '1',
    });
    expect(await t.pipeline.actions.pendingDeletions()).toEqual([]);
    await client.post(`${page}/lifecycle`, { _csrf: await client.csrfToken(page), action: 'suspend' });
    const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;
    await until(async () => keys.every((k) => !tenantOf(k).enabled), 'the batch suspend');
  });

  it("the customer page shows the customer's own quotas, which a change keeps", async () => {
    const { t } = ctx;
    const [prepaid] = sampleCustomers(1, 'DashOwn', { quotas: { workstations: 9 } });
    const { batch } = await t.enqueue([prepaid!]);
    await t.waitForBatch(batch.id);
    const client = t.client();
    await client.signIn();
    const page = await client.get(`/customers/${customerKeyOf(prepaid!)}`);
    expect(page.text).toMatch(/<span id="own-quotas">workstations 9<\/span>/);
    // One without quotas of its own: no such line.
    expect((await client.get(`/customers/${keys[2]}`)).text).not.toContain('id="own-quotas"');
  });
});
