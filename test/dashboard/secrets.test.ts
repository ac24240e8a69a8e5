import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchResults, type CustomerResult } from '../../src/workers/results.js';
import {
  DASHBOARD_PASSWORD,
  startDashboardPipeline,
  type DashboardClient,
  type DashboardPipeline,
} from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';

const boardGetRoutes = (
  createRequire(import.meta.url)('@bull-board/api/dist/routes.js') as {
    appRoutes: { api: { method: string; route: string | string[] }[] };
  }
).appRoutes.api
  .filter((r) => r.method === 'get')
  .flatMap((r) => [r.route].flat());

let t: DashboardPipeline;
let client: DashboardClient;
let batchId: string;
let results: CustomerResult[];
let secrets: string[];

beforeAll(async () => {
  t = await startDashboardPipeline({ label: 'dash-secrets' });
  await t.startWorkers();
  const customers = [
    ...sampleCustomers(3, 'DashPw', { activation: 'password' }),
    ...sampleCustomers(1, 'DashGiven', { activation: 'password', password: 'Caller-Chosen-Pw-93!' }),
    ...sampleCustomers(1, 'DashMail'),
  ];
  const { batch } = await t.enqueue(customers);
  batchId = batch.id;
  expect(await t.waitForBatch(batchId)).toMatchObject({ done: 5, failed: 0 });
  results = await batchResults(
    { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
    batchId,
  );
  secrets = [
    ...results.flatMap((r) => [r.password, r.registration_token]).filter((s) => s !== ''),
    'Caller-Chosen-Pw-93!',
    t.sim.seed.clientSecret,
    await t.workers[0]!.app.acronis.tokens.get(),
    DASHBOARD_PASSWORD,
    t.config.SECRETS_KEY!,
    t.config.WEBHOOK_SECRET!,
  ];
  // The sealed forms too: masked fields must not show even the ciphertext.
  const records = await t.pipeline.store.getCustomers(results.map((r) => r.customer));
  const sealed = records.flatMap((r) => [r?.facts.passwordSealed, r?.facts.tokenSealed]);
  secrets.push(...sealed.filter((s): s is string => s !== undefined));
  expect(secrets.length).toBeGreaterThan(15);
  client = t.client();
  await client.signIn();
});
afterAll(async () => {
  await t?.close();
});

function expectNoSecret(what: string, text: string): void {
  for (const secret of secrets) {
    expect(text.includes(secret), `${what} holds a secret (${secret.slice(0, 3)}…)`).toBe(false);
  }
}

async function read(path: string): Promise<string> {
  const answer = await client.get(path);
  expect(answer.status, path).toBe(200);
  return answer.text;
}

describe('no secret reaches a page, bull-board or the metrics', () => {
  it('holds for every page and fragment of the overview, the live state included', async () => {
    expect(results.filter((r) => r.password !== '')).toHaveLength(4);
    expect(results.every((r) => r.registration_token !== '')).toBe(true);
    const paths = ['/', '/fragments/batches', `/batches/${batchId}`, `/batches/${batchId}/fragment`, '/metrics'];
    for (const r of results) {
      const key = encodeURIComponent(r.customer);
      paths.push(`/customers/${key}`, `/customers/${key}/fragment`, `/customers/${key}/live`);
    }
    let seen = '';
    for (const path of paths) {
      const text = await read(path);
      expectNoSecret(path, text);
      seen += text;
    }
    // The pages did show these customers: names, tenant ids, activation, the live state.
    for (const r of results) expect(seen).toContain(r.tenant_id);
    expect(seen).toContain('password-set');
    expect(seen).toContain('activated');
  });

  it('holds for every bull-board API answer: queue listings, each job, its logs and flow', async () => {
    const jobs = await t.pipeline.queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
    expect(jobs.length).toBe(5 * 7);
    let hidden = 0;
    const statuses = ['latest', 'completed', 'failed', 'active', 'waiting', 'delayed'];
    const paths = statuses.map((s) => `/api/queues?activeQueue=onboarding&status=${s}&page=1&jobsPerPage=100`);
    for (const route of boardGetRoutes) {
      const ids = route.includes(':jobId') ? jobs.map((j) => j.id!) : [''];
      for (const id of ids) {
        paths.push(route.replace(':queueName', 'onboarding').replace(':jobId', encodeURIComponent(id)));
      }
    }
    for (const path of paths) {
      const text = await read(`/admin/queues${path}`);
      expectNoSecret(`bull-board ${path}`, text);
      hidden += text.split('[hidden]').length - 1;
    }
    // The sealed password and token fields are there, masked.
    expect(hidden).toBeGreaterThan(20);
  });

  it('holds for the results download until a signed-in user asks to reveal; then every password and token is in it', async () => {
    for (const format of ['csv', 'json']) {
      const masked = await client.get(`/batches/${batchId}/results?format=${format}`);
      expect(masked.status).toBe(200);
      expect(masked.headers.get('content-disposition')).toContain(`results-${batchId}.${format}`);
      expect(masked.text).toContain(results[0]!.tenant_id);
      expectNoSecret(`results.${format} without reveal`, masked.text);
    }
    const csrf = await client.csrfToken(`/batches/${batchId}`);
    const notAsked = await client.post(`/batches/${batchId}/results`, { _csrf: csrf, format: 'json' });
    expectNoSecret('results without the reveal box ticked', notAsked.text);

    const revealed = await client.post(`/batches/${batchId}/results`, { _csrf: csrf, format: 'json', reveal: 'yes' });
    expect(revealed.status).toBe(200);
    expect(revealed.headers.get('cache-control')).toBe('no-store');
    expect(JSON.parse(revealed.text)).toEqual(results);
    expect(t.logs.join('')).toMatch(/"user":"ops".*results downloaded with passwords and tokens/);
  });

  it('holds for a failure reason that quotes a secret: the batch and customer pages show it masked', async () => {
    const key = results[0]!.customer;
    const token = await t.workers[0]!.app.acronis.tokens.get();
    const reason = `POST /users → 502: upstream said "Authorization: Bearer ${token}" via https://ops:${DASHBOARD_PASSWORD}@proxy.example/`;
    await t.pipeline.store.transition(key, 'failed', '*', { failedStep: 'create-user', error: reason });
    const paths = [`/batches/${batchId}`, `/batches/${batchId}/fragment`];
    paths.push(`/customers/${encodeURIComponent(key)}`, `/customers/${encodeURIComponent(key)}/fragment`);
    for (const path of paths) {
      const text = await read(path);
      expectNoSecret(path, text);
      // The reason is shown, with its secrets hidden.
      expect(text, path).toContain('upstream said');
      expect(text, path).toContain('[hidden]');
    }
  });
});
