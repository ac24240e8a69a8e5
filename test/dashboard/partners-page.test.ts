import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/app.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { DASHBOARD_PASSWORD, DASHBOARD_USER, DashboardClient } from '../helpers/dashboard.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * The dashboard and /metrics of an install serving two partners in two data centres
 * (docs/partners.md): the partner on each row and on the customer page, a partner filter,
 * each customer's timeline, Retry and Resend in its own data centre's queue and through its
 * partner's client, bull-board with both
 * queues, and API calls labelled by partner. A batch of 3 customers of each partner; every
 * dc2 customer fails at assign-roles while dc2 answers that call 503.
 */
const METRICS_TOKEN = 'partners-metrics-token-0123456789';
const ASSIGN_ROLES = '^/users/\\{user_id\\}/access_policies$';

let t: TwoPartnerInstall;
let serveApp: App;
let server: RunningServer;
let client: DashboardClient;
let batchId: string;

beforeAll(async () => {
  t = await startTwoPartnerInstall({
    label: 'dash-partners',
    env: {
      STEP_ATTEMPTS: '2',
      WEBHOOK_SECRET: 'partners-dashboard-webhook-secret',
      DASHBOARD_USER,
      DASHBOARD_PASSWORD,
      HOST: '127.0.0.1',
      PORT: '0',
      METRICS_TOKEN,
    },
  });
  // The server in an App of its own, as `serve` beside a `work` process.
  serveApp = await App.open(t.config, { logger: t.logger, secretEnv: t.secretEnv });
  server = await startServer(serveApp);
  await t.startWorkers();
  t.sims[1].configure({ faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: ASSIGN_ROLES }] });
  const customers = [
    ...sampleCustomers(3, 'East', { partner: 'dc1', activation: 'password' }),
    ...sampleCustomers(3, 'West', { partner: 'dc2', activation: 'password' }),
  ];
  const { batch } = await t.producer.enqueue({ source: 'test', label: 'two partners' }, customers);
  batchId = batch.id;
  expect(await t.waitForBatch(batchId)).toMatchObject({ done: 3, failed: 3 });
  client = new DashboardClient(server.url);
  await client.signIn();
});
afterAll(async () => {
  await server?.close();
  await serveApp?.close();
  await t?.close();
});

const rowOf = (page: string, key: string) =>
  page.split('<tr data-customer=').find((row) => row.startsWith(`"${key}"`)) ?? '';
const rowKeys = (page: string) => [...page.matchAll(/<tr data-customer="([^"]+)"/g)].map((m) => m[1]);
const partnerLink = (page: string, partner: string) =>
  new RegExp(`data-partner="${partner}"[^>]*>${partner || 'All partners'}(?: <span class="count">(\\d+)</span>)?`).exec(
    page,
  );

describe('the dashboard of an install with two partners', () => {
  it('names the partner on each row of the batch page and filters by it, with the state filters counted within it', async () => {
    // Every record names its partner, whichever claimed it first (the producer or the first worker).
    const keys = ['East-1', 'East-2', 'East-3', 'West-1', 'West-2', 'West-3'];
    const records = await t.app.store.getCustomers(keys);
    expect(records.map((r) => r?.partner)).toEqual(['dc1', 'dc1', 'dc1', 'dc2', 'dc2', 'dc2']);
    const page = await client.get(`/batches/${batchId}`);
    expect(page.status).toBe(200);
    expect(page.text).toContain('<th>Partner</th>');
    expect(rowOf(page.text, 'East-1')).toContain('<td class="partner mono">dc1</td>');
    expect(rowOf(page.text, 'West-2')).toContain('<td class="partner mono">dc2</td>');
    expect(partnerLink(page.text, 'dc1')?.[1], page.text).toBe('3');
    expect(partnerLink(page.text, 'dc2')?.[1]).toBe('3');

    const dc2 = await client.get(`/batches/${batchId}?partner=dc2`);
    expect(rowKeys(dc2.text).sort()).toEqual(['West-1', 'West-2', 'West-3']);
    expect(dc2.text).toMatch(/data-filter="failed"[^>]*>Failed <span class="count">3<\/span>/);
    expect(dc2.text).not.toContain('data-filter="done"');
    // The state filters and the search keep the partner.
    expect(dc2.text).toMatch(/href="\/batches\/[^"?]+\?state=failed&amp;partner=dc2"/);
    expect(dc2.text).toContain('<input type="hidden" name="partner" value="dc2">');
    expect(dc2.text).toContain('Retry all failed (3)');

    const dc1Failed = await client.get(`/batches/${batchId}?partner=dc1&state=failed`);
    expect(rowKeys(dc1Failed.text)).toEqual([]);
    expect(dc1Failed.text).toContain('no customer matches');
    const searched = await client.get(`/batches/${batchId}?partner=dc2&q=west-2`);
    expect(rowKeys(searched.text)).toEqual(['West-2']);
    const fragment = await client.get(`/batches/${batchId}/fragment?partner=DC1`);
    expect(rowKeys(fragment.text).sort()).toEqual(['East-1', 'East-2', 'East-3']);

    const unknown = await client.get(`/batches/${batchId}?partner=${encodeURIComponent('<b>eu</b>')}`);
    expect(unknown.status).toBe(400);
    expect(unknown.text).toContain('partner: must be one of dc1, dc2');
    expect(unknown.text).not.toContain('<b>eu</b>');
  });

  it("shows a customer's partner and data centre, and its timeline from its own data centre's queue", async () => {
    const page = await client.get('/customers/West-1');
    expect(page.status).toBe(200);
    const dataCentre = new URL(t.sims[1].url).host;
    expect(page.text).toMatch(new RegExp(`id="customer-partner"><span class="mono">dc2</span>.*${dataCentre}`));
    // Read from dc2's queue: the steps before assign-roles are done, and it failed after 2 attempts.
    expect(page.text).toMatch(/<td>create-tenant<\/td>\s*<td><span class="badge done">/);
    expect(page.text).toMatch(
      /<td>assign-roles<\/td>\s*<td><span class="badge failed">failed<\/span><\/td>\s*<td>2<\/td>/,
    );
    // Asked of dc2's API with dc2's client: dc1 has no such user.
    const live = await client.get('/customers/West-1/live');
    expect(live.text).toMatch(/id="live-activated">/);
    expect(live.text).not.toContain('did not answer as expected');
    const east = await client.get('/customers/East-1');
    expect(east.text).toMatch(/id="customer-partner"><span class="mono">dc1<\/span>/);
    expect(east.text).not.toContain('not reached');
  });

  it("retries a customer, then a partner's failed customers, in their own data centre's queue", async () => {
    t.sims[1].configure({ faults: [] });
    const csrf = await client.csrfToken('/customers/West-1');
    const one = await client.post('/customers/West-1/retry', { _csrf: csrf });
    expect(one.status).toBe(303);
    await until(async () => (await t.app.store.getCustomer('West-1'))?.state === 'done', 'West-1 done', 30_000);

    const page = await client.get(`/batches/${batchId}?partner=dc2`);
    expect(page.text).toContain('Retry all failed (2)');
    const csrfBatch = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const all = await client.post(`/batches/${batchId}/retry`, { _csrf: csrfBatch, partner: 'dc2' });
    expect(all.status).toBe(303);
    expect(all.headers.get('location')).toBe(`/batches/${batchId}?partner=dc2`);
    expect(await t.waitForBatch(batchId)).toMatchObject({ done: 6, failed: 0 });
    const after = await client.get(`/batches/${batchId}?partner=dc2`);
    expect(after.text).toContain('2 customers queued again');
    // Every step ran in dc2's queue: nothing of dc2's customers reached dc1.
    expect(t.sims[0].state().tenants.some((x) => x.customer_id?.startsWith('West-'))).toBe(false);
  });

  it("resends a partner's unconfirmed activation e-mails through its own client", async () => {
    const send = '^/users/\\{user_id\\}/send-activation-email$';
    t.sims[1].configure({
      faults: [{ kind: 'commit-then-fail', methods: ['POST'], path: send, times: 1, drop: true }],
    });
    const mailed = sampleCustomers(1, 'Mailed', { partner: 'dc2' });
    const { batch } = await t.producer.enqueue({ source: 'test', label: 'mail lost' }, mailed);
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    t.sims[1].configure({ faults: [] });
    const login = (await t.app.store.getCustomer('Mailed-1'))?.facts.login;
    const sent = () => t.sims[1].state().users.find((u) => u.login === login)?.activation_emails_sent;
    expect(sent()).toBe(1);

    const page = await client.get(`/batches/${batch.id}?partner=dc2`);
    expect(page.text).toContain('Resend unconfirmed e-mails (1)');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1]!;
    const resent = await client.post(`/batches/${batch.id}/resend-activation`, { _csrf: csrf, partner: 'dc2' });
    expect(resent.status).toBe(303);
    expect(sent()).toBe(2);
    expect((await client.get(resent.headers.get('location')!)).text).toContain('1 sent again');
  });

  it("lists every data centre's queue on bull-board", async () => {
    const answer = await client.get('/admin/queues/api/queues?page=1&jobsPerPage=1');
    expect(answer.status).toBe(200);
    const names = (JSON.parse(answer.text) as { queues: { name: string }[] }).queues.map((q) => q.name);
    expect(names).toEqual(expect.arrayContaining(t.app.queues.map((q) => q.name)));
    expect(t.app.queues).toHaveLength(2);
  });
});

type Sample = { labels: Record<string, string>; value: number };

async function scrape(): Promise<Sample[] & { text?: string }> {
  const response = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  const text = await response.text();
  return text.split('\n').flatMap((line) => {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) return [];
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    return [{ labels: { __name__: m[1]!, ...labels }, value: Number(m[3]) }];
  });
}

const sum = (samples: Sample[], name: string, labels: Record<string, string>) =>
  samples
    .filter((s) => s.labels.__name__ === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((n, s) => n + s.value, 0);

describe('/metrics of an install with two partners', () => {
  it("labels each API call with the partner whose client made it, and each data centre's queue with it", async () => {
    const [dc1, dc2] = t.sims;
    let samples = await scrape();
    // The workers write their counts once a second.
    await until(
      async () => {
        samples = await scrape();
        return (
          sum(samples, 'acronis_onboard_api_requests_total', { partner: 'dc1' }) === dc1.stats().total &&
          sum(samples, 'acronis_onboard_api_requests_total', { partner: 'dc2' }) === dc2.stats().total
        );
      },
      '/metrics to count what each simulator saw, by partner',
      10_000,
    ).catch(() => undefined);
    expect(sum(samples, 'acronis_onboard_api_requests_total', { partner: 'dc1' })).toBe(dc1.stats().total);
    expect(sum(samples, 'acronis_onboard_api_requests_total', { partner: 'dc2' })).toBe(dc2.stats().total);
    // The 503s dc2 answered are dc2's.
    const refused = { endpoint: 'PUT /users/{user_id}/access_policies', status: '503' };
    expect(sum(samples, 'acronis_onboard_api_requests_total', { ...refused, partner: 'dc2' })).toBeGreaterThan(0);
    expect(sum(samples, 'acronis_onboard_api_requests_total', { ...refused, partner: 'dc1' })).toBe(0);
    expect(sum(samples, 'acronis_onboard_token_issues_total', { partner: 'dc2' })).toBe(dc2.stats().tokenIssues);
    expect(sum(samples, 'acronis_onboard_budget_grants_total', { partner: 'dc1' })).toBe(dc1.stats().total);
    expect(sum(samples, 'acronis_onboard_api_request_duration_seconds_count', { partner: 'dc2' })).toBe(
      dc2.stats().total,
    );

    const [primary, second] = t.app.queues.map((q) => q.name);
    const steps = 7; // the standard profile
    const completed = (queue: string, dataCenter: string) =>
      sum(samples, 'acronis_onboard_step_jobs', { queue: queue!, state: 'completed', data_center: dataCenter });
    expect(completed(primary!, new URL(dc1.url).host)).toBe(3 * steps);
    // dc2's three, and the one whose e-mail was resent.
    expect(completed(second!, new URL(dc2.url).host)).toBe(4 * steps);
  });
  it('shows a customer whose partner was taken out of the partners file, and answers what needs its partner with a 409 that says why', async () => {
    await t.app.redis.hset(`${t.app.keys.customerPrefix}West-3`, 'partner', 'gone');
    const page = await client.get('/customers/West-3');
    expect(page.status).toBe(200);
    expect(page.text).toContain('not in the partners file');
    expect((await client.get('/customers/West-3/fragment')).status).toBe(200);
    // Its live state needs its partner's client: there is none to use.
    const live = await client.get('/customers/West-3/live');
    expect(live.status).toBe(409);
    expect(live.text).toContain('unknown partner \\"gone\\": this install serves \\"dc1\\", \\"dc2\\"');
    expect(live.text).toContain('add the partner back to the partners file');
    expect(live.text).not.toMatch(/at .*\.ts:\d+/);
  });
});
