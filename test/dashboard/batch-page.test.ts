import { describe, expect, it } from 'vitest';
import { EMAIL_UNCONFIRMED_HEADING } from '../../src/workers/unconfirmed-emails.js';
import { dashboardWithWorkers } from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';

/**
 * The batch page says of a done customer what `status` says, an activation e-mail left unconfirmed,
 * and sends those e-mails again on the operator's word, as `resend-activation BATCH` does.
 */
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

    // Resend unconfirmed e-mails: the same as resend-activation BATCH, told in a notice.
    expect(page.text).toContain('Resend unconfirmed e-mails (1)');
    const login = unconfirmed[0]!.facts.login!;
    const mails = () => t.sim.state().users.find((u) => u.login === login)?.activation_emails_sent;
    expect(mails()).toBe(1);
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const forged = await client.post(`/batches/${batch.id}/resend-activation`, { _csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(mails()).toBe(1);
    const resent = await client.post(`/batches/${batch.id}/resend-activation`, { _csrf: csrf });
    expect(resent.status).toBe(303);
    expect(mails()).toBe(2);
    const after = await client.get(`/batches/${batch.id}`);
    expect(after.text).toContain('1 sent again, 0 already activated, 0 not sent');
    expect(after.text).not.toContain('Resend unconfirmed e-mails');
    expect(after.text).not.toContain(EMAIL_UNCONFIRMED_HEADING);
    expect(t.logs.join('\n')).toMatch(/activation e-mails resent/);
  });
});
