import { describe, expect, it } from 'vitest';
import type { CustomerDrift, SweepSummary } from '../../src/reconcile/drift.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { runCli } from '../helpers/cli.js';
import { waitForActions } from '../helpers/lifecycle.js';
import { consoleEdit, customerAt, kindsOf, sweep } from '../helpers/reconcile.js';
import { dashboardWithWorkers, type DashboardClient } from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';

/**
 * What the sweeps found, where operators look (docs/reconcile.md "Drift page", "Funnel",
 * "Metrics"): the Drift page lists the customers differing from their profile with each
 * difference in words, a Fix per customer (CSRF-checked) and the last sweep; the batch page and
 * `status BATCH` give the onboarding funnel, saying "not checked yet" before any sweep; /metrics
 * counts customers by drift kind and the last sweep's cost. The findings are put in the store as
 * a sweep leaves them (the sweep itself: test/reconcile/).
 */
const file = dashboardWithWorkers('dash-drift');

const html = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
const rowOf = (page: string, key: string) =>
  page.split('<tr data-customer=').find((row) => row.startsWith(`"${html(key)}"`)) ?? '';

async function signedIn(): Promise<DashboardClient> {
  const client = file.t.client();
  await client.signIn();
  return client;
}

const QUOTA_TEXT = 'storage quota is 5 GB; the profile says 1 TB <script>alert(1)</script>';

function finding(key: string, batchId: string, over: Partial<CustomerDrift> = {}): CustomerDrift {
  return {
    customerId: key,
    name: `Customer ${key}`,
    batchId,
    tenantId: `tenant-${key}`,
    checkedAt: Date.parse('2026-12-06T20:00:00Z'),
    differences: [],
    funnel: { created: true, activated: false, agentRegistered: false },
    ...over,
  };
}

const SWEEP: SweepSummary = {
  startedAt: Date.parse('2026-12-06T20:00:00Z'),
  finishedAt: Date.parse('2026-12-06T20:00:42Z'),
  mode: 'incremental',
  listingPages: 3,
  calls: 17,
  tenantsChanged: 5,
  customersChecked: 5,
  drifting: 1,
  healed: 1,
  byKind: { quota: 1, 'admin-not-activated': 1, 'record-healed': 1 },
};

describe('the Drift page, the funnel and the sweep metrics', () => {
  it('say "not checked yet" before any sweep, then show what the sweep found, escaped', async () => {
    const { t } = file;
    const { batch, customers } = await t.enqueue(sampleCustomers(3, 'Drift'));
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 3 });
    const [drifting, fine, healed] = customers.map((c) => c.key) as [string, string, string];
    const client = await signedIn();

    const before = await client.get('/drift');
    expect(before.status).toBe(200);
    expect(before.text).toContain('No sweep has run yet');
    expect(before.text).toContain('no customer differs from its profile');
    expect(before.text).toContain('<a href="/drift">Drift</a>');
    expect((await client.get(`/batches/${batch.id}`)).text).toContain('id="funnel-not-checked"');
    const statusBefore = await runCli(t, ['status', batch.id]);
    expect(statusBefore.stdout).toMatch(/funnel {2}not checked yet/);
    expect(JSON.parse((await runCli(t, ['status', batch.id, '--json'])).stdout).funnel).toMatchObject({
      customers: 3,
      checkedAt: null,
    });

    await t.pipeline.drift.save([
      finding(drifting, batch.id, {
        name: 'Dental <b>Care</b>',
        differences: [
          { kind: 'quota', field: 'quota:storage', expected: '1 TB', actual: '5 GB', text: QUOTA_TEXT },
          {
            kind: 'admin-not-activated',
            field: 'admin',
            expected: 'activated',
            actual: 'not',
            text: 'the admin has not logged in',
          },
        ],
        funnel: { created: true, activated: true, agentRegistered: true },
      }),
      finding(fine, batch.id, { funnel: { created: true, activated: true, agentRegistered: false } }),
      finding(healed, batch.id, {
        differences: [
          { kind: 'record-healed', field: 'record', expected: 'done', actual: 'failed', text: 'record rebuilt' },
        ],
      }),
    ]);
    await t.pipeline.drift.saveSweep(SWEEP);

    const page = (await client.get('/drift')).text;
    expect(page).toContain('1 customer differs from its profile');
    const row = rowOf(page, drifting);
    expect(row).toContain(html('Dental <b>Care</b>'));
    expect(row).toContain(html(QUOTA_TEXT));
    expect(row).not.toContain('<script>');
    expect(row).toContain('the admin has not logged in');
    expect(row).toMatch(new RegExp(`action="/drift/${encodeURIComponent(drifting)}/fix"`));
    expect(row).toContain('name="_csrf"');
    expect(rowOf(page, fine)).toBe('');
    expect(rowOf(page, healed)).toBe('');
    expect(page).toContain('2026-12-06 20:00:42 UTC');
    expect(page).toMatch(/incremental · took 42 s · 17 API calls \(3 listing pages\)/);
    expect(page).toContain('1 record healed');

    const batchPage = (await client.get(`/batches/${batch.id}`)).text;
    expect(batchPage).not.toContain('funnel-not-checked');
    expect(batchPage).toMatch(/<b>3<\/b> of 3 created \(100 %\)/);
    expect(batchPage).toMatch(/<b>2<\/b> of 3 activated \(admin logged in\) \(66 %\)/);
    expect(batchPage).toMatch(/<b>1<\/b> of 3 first agent registered \(33 %\)/);
    const status = await runCli(t, ['status', batch.id]);
    expect(status.stdout).toContain(
      'funnel  created 3 of 3, activated (admin logged in) 2, first agent registered 1  (checked 2026-12-06T20:00:00.000Z)',
    );
  });

  it('refuses a Fix without the session’s CSRF token', async () => {
    const client = await signedIn();
    const asked = () => file.t.logs.filter((line) => line.includes('drift fix asked for')).length;
    const before = asked();
    const forged = await client.post('/drift/any-customer/fix', { _csrf: 'forged' });
    expect(forged.status).toBe(403);
    expect(asked()).toBe(before);
  });

  it('counts customers by drift kind, the customers drifting and the last sweep’s cost on /metrics', async () => {
    const client = await signedIn();
    const text = (await client.get('/metrics')).text;
    expect(text).toContain('acronis_onboard_drift_customers{kind="quota"} 1');
    expect(text).toContain('acronis_onboard_drift_customers{kind="admin-not-activated"} 1');
    expect(text).toContain('acronis_onboard_drift_customers_drifting 1');
    expect(text).toContain('acronis_onboard_sweep_last_calls 17');
    expect(text).toContain('acronis_onboard_sweep_last_duration_seconds 42');
    expect(text).toMatch(/acronis_onboard_sweeps_total\{outcome="ran"\} 0/);
  });
  it('Fix queues the change that cures a console edit, logged with the user; the next sweep no longer finds it', async () => {
    const { t } = file;
    const { batch, customers } = await t.enqueue(sampleCustomers(1, 'DriftFix'));
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1 });
    const key = customers[0]!.key;
    // Someone turns an item of the profile off in the console (servers, in the edition's own name).
    await consoleEdit(t.sim, 'item', { tenant_id: customerAt(t, key).tenantId, name: 'pw_base_servers', status: 0 });
    await sweep(t, STANDARD_PROFILE, { customerIds: [key] });
    const client = await signedIn();
    const page = (await client.get('/drift')).text;
    expect(rowOf(page, key)).toContain('data-kind="offering-items"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page)![1]!;

    const fixed = await client.post(`/drift/${encodeURIComponent(key)}/fix`, { _csrf: csrf });
    expect(fixed.status).toBe(303);
    expect(fixed.headers.get('location')).toBe('/drift');
    const notice = (await client.get('/drift')).text;
    const actionId = new RegExp(`Fix ${key}: change queued \\(action ([^)]+)\\)`).exec(notice)?.[1];
    expect(
      actionId,
      notice.slice(notice.indexOf('class="notice"'), notice.indexOf('class="notice"') + 400),
    ).toBeDefined();
    expect(t.logs.join('\n')).toMatch(new RegExp(`"customer":"${key}".*"user":"ops".*drift fix asked for`));
    const action = await t.pipeline.actions.get(actionId!);
    expect(action?.requester).toContain('dashboard, ops');
    await waitForActions(t, action!.batchId);

    const after = await sweep(t, STANDARD_PROFILE, { customerIds: [key] });
    expect(kindsOf(after.findings)[key]).not.toContain('offering-items');
  });
});
