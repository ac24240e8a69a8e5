import { request } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/app.js';
import { dashboardCredentials } from '../../src/app/dashboard.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { runCli } from '../helpers/cli.js';
import { removeKeys } from '../helpers/redis.js';
import { DashboardClient, startDashboardPipeline, type DashboardPipeline } from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';

/** bull-board's own list of API routes, so a route it adds in a later version is checked too. */
const boardRoutes = (
  createRequire(import.meta.url)('@bull-board/api/dist/routes.js') as {
    appRoutes: { api: { method: string; route: string | string[] }[] };
  }
).appRoutes.api.flatMap((r) => [r.route].flat().map((route) => ({ method: r.method.toUpperCase(), route })));

let t: DashboardPipeline;
let batchId: string;
const customerKey = 'SignIn-1';

beforeAll(async () => {
  t = await startDashboardPipeline({ label: 'dash-signin', env: { STEP_ATTEMPTS: '1' } });
  await t.startWorkers();
  t.sim.configure({ faults: [{ kind: '5xx', status: 503, methods: ['POST'], path: '^/tenants$' }] });
  const { batch } = await t.enqueue(sampleCustomers(1, 'SignIn'));
  batchId = batch.id;
  await t.waitForBatch(batchId);
  t.sim.configure({ faults: [] });
});
afterAll(async () => {
  await t?.close();
});

const fill = (route: string) =>
  `/admin/queues${route}`
    .replace(':queueName', 'onboarding')
    .replace(':jobId', encodeURIComponent(jobIdFor(customerKey, 'create-tenant')))
    .replace(':queueStatus', 'failed')
    .replace(':schedulerId', 'none');

function dashboardRoutes(): { method: string; path: string }[] {
  const b = encodeURIComponent(batchId);
  const c = encodeURIComponent(customerKey);
  return [
    ...['/', '/fragments/batches', `/batches/${b}`, `/batches/${b}/fragment`, `/batches/${b}/results?format=csv`].map(
      (path) => ({ method: 'GET', path }),
    ),
    ...[`/customers/${c}`, `/customers/${c}/fragment`, `/customers/${c}/live`, '/metrics', '/admin/queues'].map(
      (path) => ({ method: 'GET', path }),
    ),
    ...[
      '/logout',
      `/batches/${b}/retry`,
      `/batches/${b}/resend-activation`,
      `/customers/${c}/retry`,
      `/batches/${b}/results`,
    ].map((path) => ({
      method: 'POST',
      path,
    })),
    ...boardRoutes.map(({ method, route }) => ({ method, path: fill(route) })),
  ];
}

describe('the dashboards without a session', () => {
  it('send every page to the sign-in form and answer every action, fragment and bull-board API route 401', async () => {
    const anonymous = new DashboardClient(t.url);
    const routes = dashboardRoutes();
    expect(routes.length).toBeGreaterThan(40);
    for (const { method, path } of routes) {
      const answer = await anonymous.send(method, path, method === 'GET' ? undefined : '{}', {
        ...(method === 'GET' ? { accept: 'text/html' } : { 'content-type': 'application/json' }),
      });
      if (answer.status === 303) expect(answer.headers.get('location'), `${method} ${path}`).toMatch(/^\/login\?next=/);
      else expect(answer.status, `${method} ${path}`).toBe(401);
      expect(answer.text, `${method} ${path}`).not.toContain(customerKey);
    }
    // The customer is still failed: no action went through.
    expect(await t.pipeline.store.getCustomer(customerKey)).toMatchObject({ state: 'failed' });
  });

  it('a wrong password is refused with the form again; the right one signs in', async () => {
    const client = new DashboardClient(t.url);
    const refused = await client.signIn('ops', 'not-the-password');
    expect(refused.status).toBe(401);
    expect(refused.text).toContain('Wrong user name or password');
    const accepted = await client.signIn();
    expect(accepted.status).toBe(303);
    const overview = await client.get('/');
    expect(overview.status).toBe(200);
    expect(overview.text).toContain(batchId);
  });
});

describe('a signed-in session', () => {
  it('gets 403 for every change sent without the CSRF token, or with a wrong one, and nothing changes', async () => {
    const client = new DashboardClient(t.url);
    await client.signIn();
    const changes = dashboardRoutes().filter((r) => r.method !== 'GET');
    for (const { method, path } of changes) {
      const bare = await client.send(method, path, '{}', { 'content-type': 'application/json' });
      expect(bare.status, `${method} ${path}`).toBe(403);
    }
    const forged = await client.post(`/customers/${customerKey}/retry`, { _csrf: 'forged-token' });
    expect(forged.status).toBe(403);
    expect(await t.pipeline.store.getCustomer(customerKey)).toMatchObject({ state: 'failed' });
    expect((await client.get('/')).status).toBe(200);
  });

  it('signing out ends the session: the next page goes to the sign-in form', async () => {
    const client = new DashboardClient(t.url);
    await client.signIn();
    const out = await client.post('/logout', { _csrf: await client.csrfToken('/') });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect((await client.get('/')).status).toBe(303);
  });

  it('pages carry security headers (helmet) with a strict content security policy', async () => {
    const client = new DashboardClient(t.url);
    await client.signIn();
    const page = await client.get(`/batches/${batchId}`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
  });
});

describe('a dashboard without DASHBOARD_USER', () => {
  let open: { app: App; server: RunningServer };
  beforeAll(async () => {
    const config = { ...t.config, DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined };
    const app = await App.open(config, { logger: t.logger });
    open = { app, server: await startServer(app) };
  });
  afterAll(async () => {
    await open?.server.close();
    await open?.app.close();
  });

  it('is open on loopback, and refuses a request whose Host is not loopback (DNS rebinding)', async () => {
    const client = new DashboardClient(open.server.url);
    expect((await client.get('/')).status).toBe(200);
    const rebound = await getWithHost(open.server.url, '/', 'attacker.example');
    expect(rebound.status).toBe(403);
    expect(rebound.text).not.toContain(batchId);
    // Changes still need the CSRF token.
    expect((await client.post(`/customers/${customerKey}/retry`)).status).toBe(403);
  });

  it('is not served beyond loopback: serve refuses to start, naming the variables', async () => {
    const wide = loadConfig({ HOST: '0.0.0.0' });
    expect(() => dashboardCredentials(wide)).toThrow(ConfigError);
    expect(() => dashboardCredentials(loadConfig({ HOST: '0.0.0.0', DASHBOARD_USER: 'ops' }))).toThrow(
      /DASHBOARD_PASSWORD/,
    );
    // startServer checks it too when its caller did not (the demo, the tests), before it listens.
    const noSignIn = { ...t.config, HOST: '0.0.0.0', DASHBOARD_USER: undefined, DASHBOARD_PASSWORD: undefined };
    const wideApp = await App.open(noSignIn, { logger: t.logger });
    try {
      await expect(startServer(wideApp)).rejects.toThrow(
        /DASHBOARD_USER: and DASHBOARD_PASSWORD are required when HOST/,
      );
    } finally {
      await wideApp.close();
    }
    const run = await runCli(t, ['serve'], { HOST: '0.0.0.0', PORT: '0', DASHBOARD_USER: '', DASHBOARD_PASSWORD: '' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('DASHBOARD_USER');
    expect(run.stderr).toContain('not a loopback address');
  });
});

// Last: it leaves this address locked out of signing in for the rest of the window.
describe('failed sign-ins', () => {
  it('are limited per address: after 5 failures even the right password gets 429 with Retry-After', async () => {
    // A fresh window: the refused sign-in above counted too.
    await removeKeys(t.redis, `${t.prefix}:dashboard`);
    const client = new DashboardClient(t.url);
    for (let i = 0; i < 5; i++) expect((await client.signIn('ops', `wrong-${i}`)).status).toBe(401);
    const limited = await client.signIn();
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.text).toContain('Too many failed sign-ins');
    expect((await client.get('/')).status).toBe(303);
  });
});

/** fetch() will not send another Host header than the URL's; node:http does. */
function getWithHost(url: string, path: string, host: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers: { host } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end();
  });
}
