import { describe, expect, it } from 'vitest';
import { importCsv } from '../../src/producers/csv-import.js';
import { EMAIL_UNCONFIRMED_HEADING } from '../../src/workers/unconfirmed-emails.js';
import { seedBatch, seededKey } from '../helpers/batch-seed.js';
import { tempCsv } from '../helpers/csv.js';
import { dashboardWithWorkers, type DashboardClient } from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { loginTakenElsewhere } from '../helpers/simulator.js';
import { postWebhook } from '../helpers/webhook.js';

/**
 * The batch page says of a done customer what `status` says, an activation e-mail left unconfirmed,
 * and sends those e-mails again on the operator's word, as `resend-activation BATCH` does. It lists
 * the CSV's bad rows, offers Retry only where a retry can help, says how long an ended batch took,
 * and refuses a query it cannot answer; the customer page states a failure's reason once.
 * (Filters, search and pages over 1,000 customers: test/dashboard/browser.test.ts.)
 */
const file = dashboardWithWorkers('dash-batch-page', { STEP_ATTEMPTS: '2' });
const ASSIGN_ROLES = '^/users/\\{user_id\\}/access_policies$';

/** As Eta's autoEscape writes text into a page. */
const html = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
const occurrences = (page: string, text: string) => page.split(text).length - 1;
const rowOf = (page: string, key: string) =>
  page.split('<tr data-customer=').find((row) => row.startsWith(`"${html(key)}"`)) ?? '';

async function signedIn(): Promise<DashboardClient> {
  const client = file.t.client();
  await client.signIn();
  return client;
}

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

  it('lists the bad rows of its CSV file by line, field and reason, and counts "4 of 6 rows (2 bad)"', async () => {
    const { t } = file;
    const good = (n: number) => `DashCsv-${n},DashCsv Customer ${n},it${n}@dash-csv.example`;
    // Line 3 has no e-mail address, line 6 no name.
    const csv = [
      'external_id,name,email',
      good(1),
      'DashCsv-bad-1,Bad Mail GmbH,not-an-address',
      good(2),
      good(3),
      'DashCsv-bad-2,,it@no-name.example',
      good(4),
    ].join('\n');
    const report = await importCsv({ producer: t.server.producer, path: tempCsv('dash-bad-rows.csv', `${csv}\n`) });
    expect(report).toMatchObject({ rows: 6, goodRows: 4, badRowCount: 2 });
    await t.waitForBatch(report.batch!.id);

    const page = await (await signedIn()).get(`/batches/${report.batch!.id}`);
    expect(page.text).toContain('<span id="submitted">4 of 6 rows (2 bad)</span>');
    const badRows = page.text.split('id="bad-rows"')[1]!.split('</table>')[0]!;
    expect(badRows).toContain('Bad rows: 2 not imported');
    expect(badRows).toContain('<tr><td>3</td><td class="mono">email</td><td>is not an e-mail address</td></tr>');
    expect(badRows).toContain('<tr><td>6</td><td class="mono">name</td><td>is required</td></tr>');
    // The cells' values stay in the file: the page names the rule broken, not what the row held.
    expect(badRows).not.toContain('not-an-address');
  });

  it('offers no Retry for a failure only a change resolves, says what to change instead, and states a reason once', async () => {
    const { t } = file;
    await loginTakenElsewhere(t.sim, 'dash.taken', 'Dash Else');
    const customers = sampleCustomers(2, 'DashChange');
    customers[0] = { ...customers[0]!, login: 'dash.taken' };
    const conflicted = await t.enqueue(customers, { label: 'dash-change' });
    expect(await t.waitForBatch(conflicted.batch.id)).toMatchObject({ done: 1, failed: 1 });
    t.sim.configure({ faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: ASSIGN_ROLES }] });
    const unavailable = await t.enqueue(sampleCustomers(1, 'DashReason'), { label: 'dash-reason' });
    expect(await t.waitForBatch(unavailable.batch.id)).toMatchObject({ failed: 1 });
    t.sim.configure({ faults: [] });
    const client = await signedIn();

    // The conflict: its row says what to change; no Retry, and Retry all has nothing to queue.
    const page = await client.get(`/batches/${conflicted.batch.id}`);
    const row = rowOf(page.text, 'DashChange-1');
    expect(row).toContain('failed at create-user');
    expect(row).not.toContain('class="retry"');
    expect(row).toContain('Not retried as it is:</b> change the login and submit the customer again');
    expect(page.text).not.toContain('id="retry-all"');
    expect(page.text).toContain('1 failed customer needs a change before a retry can help');
    const customer = await client.get('/customers/DashChange-1');
    expect(customer.text).not.toContain('Retry from');
    expect(customer.text).toMatch(/id="change-advice"><b>Retry cannot help as it is:<\/b> change the login/);

    // A failure a retry may mend: Retry offered; its reason once on the customer's page, though
    // both attempts logged it.
    const retryable = await client.get(`/batches/${unavailable.batch.id}`);
    expect(rowOf(retryable.text, 'DashReason-1')).toContain('class="retry"');
    const record = await t.pipeline.store.getCustomer('DashReason-1');
    const timeline = await client.get('/customers/DashReason-1');
    expect(occurrences(timeline.text, html(record!.error!))).toBe(1);
    expect(timeline.text).toContain('Retry from assign-roles');
    expect(timeline.text).toContain('<li>will retry: the reason above</li>');
    expect(timeline.text).toContain('<li>failed: the reason above</li>');
  });

  it('says how long an ended batch took and its pace, and names a webhook batch without a delivery id in words', async () => {
    const { t } = file;
    const body = { customers: sampleCustomers(2, 'DashHook').map((c) => ({ ...c })) };
    const sent = await postWebhook(t.url, 'dashboard-test-webhook-secret', body);
    expect(sent.status).toBe(202);
    const batchId = sent.body.batch_id as string;
    const ended = await t.waitForBatch(batchId);
    const client = await signedIn();

    const overview = await client.get('/');
    const row = overview.text.split(`<tr data-batch="${batchId}">`)[1]!.split('</tr>')[0]!;
    const day = ended.createdAt.slice(0, 10);
    expect(row).toMatch(new RegExp(`<td>webhook, no delivery id, signed ${day} \\d\\d:\\d\\d:\\d\\d UTC</td>`));
    expect(row).toMatch(/<td class="nowrap rate">[\d,.]+ customers \/ min<\/td>/);
    expect(row).toMatch(/<td class="nowrap eta">took \d+ s<\/td>/);
    const page = await client.get(`/batches/${batchId}`);
    expect(page.text).toMatch(/<span id="batch-took">took \d+ s · [\d,.]+ customers \/ min<\/span>/);
    expect(page.text).toContain('<span id="submitted">2 customers submitted</span>');
  });

  it('refuses a filter, page or search it cannot answer, naming the parameter, and escapes the search it shows', async () => {
    const { t } = file;
    const { batch } = await t.enqueue(sampleCustomers(1, 'DashQuery'), { label: 'dash-query' });
    await t.waitForBatch(batch.id);
    const client = await signedIn();
    const at = (query: string) => client.get(`/batches/${batch.id}?${query}`);

    const state = await at('state=everything');
    expect(state.status).toBe(400);
    expect(state.text).toContain('state: must be one of all, failed, unconfirmed, running, queued, done, elsewhere');
    expect((await at('page=0')).text).toContain('page: must be a page number from 1');
    expect((await at('page=two')).status).toBe(400);
    expect((await at('state=failed&state=done')).status).toBe(400);
    expect((await at(`q=${'x'.repeat(101)}`)).text).toContain('q: must be at most 100 characters');
    // One partner: no partner column, no partner filter, and a partner asked for is refused.
    const plain = await at('');
    expect(plain.text).not.toContain('<th>Partner</th>');
    expect(plain.text).not.toContain('partner-filters');
    expect((await at('partner=default')).text).toContain(
      'partner: this install serves one partner: there is no partner filter',
    );
    const fragment = await client.get(`/batches/${batch.id}/fragment?page=-1`);
    expect(fragment.status).toBe(400);
    expect(JSON.parse(fragment.text)).toEqual({ error: 'page: must be a page number from 1' });

    const search = await at(`q=${encodeURIComponent('<script>alert(1)</script>')}`);
    expect(search.status).toBe(200);
    expect(search.text).toContain('value="&lt;script&gt;alert(1)&lt;/script&gt;"');
    expect(search.text).not.toContain('<script>alert');
    expect(search.text).toContain('no customer matches');
  });

  it('indexes a batch recorded before the index existed when it is first shown', async () => {
    const { t } = file;
    const batchId = await seedBatch(
      t.pipeline.store,
      { source: 'csv', label: 'before-the-index.csv' },
      { customers: 120, prefix: 'legacy', name: 'Legacy Customer' },
    );
    // As such a batch is in Redis: no index, no search texts, no step sums, no end time.
    const keys = t.pipeline.keys;
    const views = ['queued', 'running', 'done', 'failed', 'unconfirmed', 'needs-change', 'elsewhere'];
    await t.redis.del(...views.map((v) => keys.batchIndex(batchId, v)), keys.batchSearchText(batchId));
    await t.redis.hdel(keys.batch(batchId), 'indexVersion', 'stepsDone', 'stepsPlanned', 'endedAt');
    const client = await signedIn();

    const page = await client.get(`/batches/${batchId}?state=failed`);
    expect(page.text).toMatch(/data-filter="failed"[^>]*>Failed <span class="count">6<\/span>/);
    expect(page.text).toMatch(/data-filter="running"[^>]*>Running <span class="count">10<\/span>/);
    expect(page.text).toContain('1–6 of 6 customers');
    expect(rowOf(page.text, seededKey('legacy', 101))).toContain('failed at create-user');
    const found = await client.get(`/batches/${batchId}?q=legacy+customer+57`);
    expect(found.text).toContain('1–1 of 1 customer');
    expect(await t.redis.hget(keys.batch(batchId), 'indexVersion')).toBe('1');
    // Its progress again: steps of the done and failed customers, and where the running ones are.
    // 100 done and 6 failed count their 7 steps, 10 running at create-user their first 2.
    expect(await t.pipeline.store.getBatch(batchId)).toMatchObject({
      stepsPlanned: 120 * 7,
      stepsDone: 106 * 7 + 10 * 2,
    });
  });
});
