import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerRequest } from '../../src/onboarding/customer-request.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { enqueueCustomers } from '../../src/workers/enqueue.js';
import { batchResults } from '../../src/workers/results.js';
import {
  DASHBOARD_PASSWORD,
  DASHBOARD_USER,
  startDashboardPipeline,
  type DashboardPipeline,
} from '../helpers/dashboard.js';
import { findChromium } from '../helpers/chromium.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { seedBatch, seededKey } from '../helpers/batch-seed.js';

/**
 * The ops console in a real browser: Chromium, headless, driven by playwright-core: CHROMIUM_PATH,
 * Debian's chromium when installed, else the one @sparticuz/chromium ships in its npm package
 * (test/helpers/chromium.ts; the machine has no outside network). An
 * operator signs in, finds a batch whose customer failed (a fault forced at the simulator),
 * retries it and watches it complete, downloads the results, watches a running batch refresh
 * itself, and signs out; then pages through a batch of 1,000 customers by filter, search and
 * page. Screenshots go to test-results/dashboard/; with
 * UPDATE_DOCS_SCREENSHOT=1 the overview is also copied to docs/images for README.md and docs/dashboard.md.
 */
const ARTIFACTS = resolve(import.meta.dirname, '../../test-results/dashboard');
const DOCS_IMAGE = resolve(import.meta.dirname, '../../docs/images/dashboard-overview.png');
const ASSIGN_ROLES = '^/users/\\{user_id\\}/access_policies$';

let t: DashboardPipeline;
let context: BrowserContext;
let page: Page;
let profileDir: string;
const batches: Record<'csv' | 'webhook' | 'retried' | 'failed', string> = {
  csv: '',
  webhook: '',
  retried: '',
  failed: '',
};

async function submit(source: string, label: string, customers: CustomerRequest[]): Promise<string> {
  const deps = { queue: t.pipeline.queue, store: t.pipeline.store, box: t.pipeline.box, profile: STANDARD_PROFILE };
  const partnerTenantId = t.sim.seed.partnerTenantId;
  return (await enqueueCustomers({ ...deps, partnerTenantId }, { source, label }, customers)).batch.id;
}

beforeAll(async () => {
  const browser = await findChromium();
  t = await startDashboardPipeline({ label: 'dash-browser', env: { STEP_ATTEMPTS: '2', WORKER_CONCURRENCY: '4' } });
  await t.startWorkers();
  batches.csv = await submit('csv', 'customers-2026-11.csv', sampleCustomers(6, 'Contoso'));
  batches.webhook = await submit('webhook', 'delivery order-4711', sampleCustomers(2, 'Fabrikam'));
  await t.waitForBatch(batches.csv);
  await t.waitForBatch(batches.webhook);
  // Every role assignment refused: these two batches end with their customers failed at assign-roles.
  t.sim.configure({ faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: ASSIGN_ROLES }] });
  batches.retried = await submit(
    'webhook',
    'delivery order-4712',
    sampleCustomers(1, 'Northwind', { activation: 'password' }),
  );
  batches.failed = await submit('webhook', 'delivery order-4713', sampleCustomers(2, 'Tailspin'));
  expect(await t.waitForBatch(batches.retried)).toMatchObject({ failed: 1 });
  expect(await t.waitForBatch(batches.failed)).toMatchObject({ failed: 2 });
  t.sim.configure({ faults: [] });

  mkdirSync(ARTIFACTS, { recursive: true });
  profileDir = mkdtempSync(join(tmpdir(), 'acronis-onboard-chromium-'));
  context = await chromium.launchPersistentContext(profileDir, {
    executablePath: browser.executablePath,
    env: browser.env,
    headless: true,
    viewport: { width: 1280, height: 760 },
    acceptDownloads: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
    ],
  });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await context?.close();
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  await t?.close();
});

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const row = (selector: string) => page.locator(selector);

describe('the ops console in chromium', () => {
  it('sign in, retry a failed customer and see it complete, download the results, watch a batch run, sign out', async () => {
    await page.goto(`${t.url}/`);
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.fill('#user', DASHBOARD_USER);
    await page.fill('#password', DASHBOARD_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${t.url}/`);

    // The overview: the batch with the failed customer, newest first.
    const failedRow = row(`tr[data-batch="${batches.retried}"]`);
    await expect.poll(() => failedRow.locator('.badge').textContent()).toBe('ended with failures');
    await expect.poll(() => row('table.batches tbody tr').count()).toBe(4);
    await shot('overview-with-failures');

    // Its page: the customer, failed at assign-roles, with the reason `status` prints.
    await failedRow.locator('a').click();
    await page.waitForURL(`${t.url}/batches/${batches.retried}`);
    const customer = row('tr[data-customer="Northwind-1"]');
    expect(await customer.locator('.badge').textContent()).toBe('failed');
    expect(await customer.textContent()).toContain('failed at assign-roles');
    const record = await t.pipeline.store.getCustomer('Northwind-1');
    expect(await customer.locator('.reason').textContent()).toContain(record!.error!);
    await shot('batch-failed');

    // Retry; the page refreshes itself until the batch has ended.
    await customer.locator('button.retry').click();
    await page.locator('.notice').waitFor();
    expect(await page.locator('.notice').textContent()).toContain('1 customer queued again');
    await expect.poll(() => page.locator('#batch-state').textContent(), { timeout: 30_000 }).toBe('ended');
    expect(await row('tr[data-customer="Northwind-1"] .badge').textContent()).toBe('done');
    await shot('batch-retried');

    // The results, with the password and token revealed on purpose.
    await page.check('#reveal');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-secrets')]);
    expect(download.suggestedFilename()).toBe(`results-${batches.retried}.csv`);
    const rows = parse(readFileSync((await download.path())!, 'utf8'), { columns: true }) as Record<string, string>[];
    const [expected] = await batchResults(
      { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
      batches.retried,
    );
    expect(rows).toHaveLength(1);
    const [result] = rows as [Record<string, string>];
    expect(result).toMatchObject({ customer: 'Northwind-1', state: 'done', failed_step: '', error: '' });
    expect(result.registration_token).toBe(expected!.registration_token);
    expect(result.password?.replace(/^'/, '')).toBe(expected!.password);

    // The customer's timeline, and its live state at Acronis on demand.
    await page.click('a[href="/customers/Northwind-1"]');
    await expect.poll(() => page.locator('table.timeline tbody tr').count()).toBe(7);
    await page.click('#check-live');
    await expect.poll(() => page.locator('#live-activated').textContent()).toBe('activated');
    await shot('customer');

    // bull-board: its title fits beside its logo, not cut short with an ellipsis.
    await page.goto(`${t.url}/admin/queues`);
    const boardTitle = page.locator('header a span[title]');
    await boardTitle.waitFor();
    expect(await boardTitle.textContent()).toContain('acronis-onboard');
    expect(await boardTitle.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);

    // A batch running now: its row shows rate and ETA and updates without a reload.
    t.sim.configure({ latencyMs: 150 });
    const running = await submit('csv', 'customers-2026-12.csv', sampleCustomers(30, 'Adventure'));
    await page.goto(`${t.url}/`);
    const runningRow = row(`tr[data-batch="${running}"]`);
    await expect
      .poll(() => runningRow.locator('td').nth(5).textContent(), { timeout: 30_000 })
      .toMatch(/customers \/ min/);
    // The share of steps done, read off the page as it refreshes itself (100 once the batch has ended).
    const stepsNow = async () => {
      const text = (await runningRow.textContent()) ?? '';
      return /\bended\b/.test(text) ? 100 : Number(/(\d+) % of the steps/.exec(text)?.[1]);
    };
    const before = await stepsNow();
    await shot('overview');
    if (process.env.UPDATE_DOCS_SCREENSHOT === '1') copyFileSync(join(ARTIFACTS, 'overview.png'), DOCS_IMAGE);
    await expect.poll(stepsNow, { timeout: 30_000 }).toBeGreaterThan(before);
    expect(new URL(page.url()).pathname).toBe('/');
    t.sim.configure({ latencyMs: 0 });

    // Sign out: the dashboards are closed again.
    await page.click('#sign-out');
    await page.waitForURL(/\/login$/);
    await page.goto(`${t.url}/batches/${batches.failed}`);
    expect(new URL(page.url()).pathname).toBe('/login');
  }, 150_000);

  it('a batch of 1,000 customers: failed first, filters with counts, search by name or external id, pages', async () => {
    // Ended with 30 failures (one needing a change); 4 bad rows in its CSV file.
    const batchId = await seedBatch(
      t.pipeline.store,
      { source: 'csv', label: 'customers-1000.csv' },
      { customers: 1000, prefix: 'big', name: 'Big Customer', stateOf: (i) => (i % 100 < 3 ? 'failed' : 'done') },
    );
    const badRows = [3, 40, 41, 150].map((line) => ({
      line,
      problems: [{ field: 'email', reason: 'is not an e-mail address' }],
    }));
    await t.pipeline.store.recordCsvRows(batchId, { rows: 1004, badRowCount: 4, badRows });
    await page.goto(`${t.url}/batches/${batchId}`);
    if (new URL(page.url()).pathname === '/login') {
      await page.fill('#user', DASHBOARD_USER);
      await page.fill('#password', DASHBOARD_PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL(`${t.url}/batches/${batchId}`);
    }
    const rows = page.locator('table.customers tbody tr');
    const status = () => page.locator('#page-status').textContent();
    const filter = (name: string) => page.locator(`a[data-filter="${name}"]`);

    // The default view of a batch that ended with failures: the failed customers first, 50 a page.
    expect(await page.locator('#submitted').textContent()).toBe('1,000 of 1,004 rows (4 bad)');
    expect(await rows.count()).toBe(50);
    expect(await status()).toBe('1–50 of 1,000 customers · page 1 of 20');
    expect(await rows.nth(0).locator('.badge').textContent()).toBe('failed');
    expect(await rows.nth(29).locator('.badge').textContent()).toBe('failed');
    expect(await rows.nth(30).locator('.badge').textContent()).toBe('done');
    expect(await page.locator('#bad-rows tbody tr').allTextContents()).toContain('150emailis not an e-mail address');
    expect(await filter('failed').textContent()).toBe('Failed 30');
    expect(await filter('done').textContent()).toBe('Done 970');
    await shot('batch-1000-default');

    // Failed: 30 rows; the one that needs a change says what to change instead of offering Retry.
    await filter('failed').click();
    await page.waitForURL(`${t.url}/batches/${batchId}?state=failed`);
    expect(await rows.count()).toBe(30);
    expect(new Set(await page.locator('table.customers tbody .badge').allTextContents())).toEqual(new Set(['failed']));
    const conflict = page.locator(`tr[data-customer="${seededKey('big', 0)}"]`);
    expect(await conflict.locator('button.retry').count()).toBe(0);
    expect(await conflict.locator('.change').textContent()).toContain(
      'change the login in its row of customers-1000.csv and import it again',
    );
    expect(await page.locator(`tr[data-customer="${seededKey('big', 1)}"] button.retry`).count()).toBe(1);
    expect(await page.locator('#retry-all').textContent()).toBe('Retry all failed (29)');
    await shot('batch-1000-failed');

    // Done, page 2 and back.
    await filter('done').click();
    expect(await status()).toBe('1–50 of 970 customers · page 1 of 20');
    await page.click('#page-next');
    await page.waitForURL(`${t.url}/batches/${batchId}?state=done&page=2`);
    expect(await status()).toBe('51–100 of 970 customers · page 2 of 20');
    expect(await rows.nth(0).getAttribute('data-customer')).toBe(seededKey('big', 53));
    await page.click('#page-previous');
    expect(await status()).toBe('1–50 of 970 customers · page 1 of 20');

    // Search by name, within the filter chosen, then by external id among all.
    await page.fill('#customer-search', 'big customer 42');
    await page.press('#customer-search', 'Enter');
    await page.waitForURL(/q=big\+customer\+42/);
    expect(new URL(page.url()).searchParams.get('state')).toBe('done');
    expect(await rows.count()).toBe(11);
    expect(await status()).toBe('1–11 of 11 customers');
    await filter('all').click();
    await page.fill('#customer-search', seededKey('big', 421).toUpperCase());
    await page.press('#customer-search', 'Enter');
    await page.waitForURL(/q=BIG-000421/);
    expect(await rows.count()).toBe(1);
    expect(await rows.nth(0).getAttribute('data-customer')).toBe(seededKey('big', 421));
    await shot('batch-1000-search');

    // A page past the end shows the last one.
    await page.goto(`${t.url}/batches/${batchId}?state=failed&page=9`);
    expect(await status()).toBe('1–30 of 30 customers');
  }, 120_000);
});
