import { describe, expect, it } from 'vitest';
import { EMAIL_UNCONFIRMED_HEADING } from '../../src/workers/unconfirmed-emails.js';
import { dashboardWithWorkers } from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';

/** The batch page says of a done customer what `status` says: an activation e-mail left unconfirmed. */
const file = dashboardWithWorkers('dash-batch-page');

describe('the batch page', () => {
  it('marks the customers whose activation e-mail lost its answer, and only those', async () => {
    const { t } = file;
    const send = '^/users/\\{user_id\\}/send-activation-email$';
    t.sim.configure({ faults: [{ kind: 'commit-then-fail', methods: ['POST'], path: send, times: 1, drop: true }] });
    const { batch, customers } = await t.enqueue(sampleCustomers(3, 'DashMailLost'));
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 3, failed: 0 });
    t.sim.configure({ faults: [] });
    const unconfirmed = (await t.pipeline.store.getCustomers(customers.map((c) => c.key))).filter(
      (r) => r?.facts.activation === 'email-unconfirmed',
    );
    expect(unconfirmed).toHaveLength(1);

    const client = t.client();
    await client.signIn();
    const page = await client.get(`/batches/${batch.id}`);
    expect(page.status).toBe(200);
    const rows = page.text.split('<tr data-customer=').slice(1);
    const marked = rows.filter((row) => row.includes(EMAIL_UNCONFIRMED_HEADING));
    expect(marked).toHaveLength(1);
    expect(marked[0]).toContain(`"${unconfirmed[0]!.key}"`);
  });
});
