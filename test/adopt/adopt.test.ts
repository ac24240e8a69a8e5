import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { batchResults } from '../../src/workers/results.js';
import { retryCustomer } from '../../src/workers/retry.js';
import { retryLine } from '../../src/workers/retry-verdict.js';
import { tempCsv } from '../helpers/csv.js';
import { askFor, calls, waitForActions } from '../helpers/lifecycle.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { simulatorApi } from '../helpers/simulator.js';
import { adminIn, childNamed, madeElsewhere, runAdopt, tenantById } from './helpers.js';

/**
 * Against a partner seeded with 5,000 customers made elsewhere (each plan lists them all): `adopt` from a CSV, with every kind of bad row beside good ones; --force; a stamp whose answer
 * was lost; a tenant stamped already whose record was lost; the lifecycle on adopted customers;
 * --apply-profile; an import meeting an unstamped tenant's name, then adopting it.
 */
let t: TestPipeline;
let admin: { id: string; login: string };
let stampedId: string;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'adopt', sim: { customers: 5000 } });
  await t.startWorkers();
  admin = await adminIn(t, childNamed(t, 'Existing Customer 0001').id);
  await madeElsewhere(t, 'Twin  Corp');
  await madeElsewhere(t, 'twin corp');
  stampedId = await madeElsewhere(t, 'Stamped Elsewhere', 'other-crm-9');
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('adopt from a CSV', { timeout: 180_000 }, () => {
  it('adopts the good rows; names each bad one (row, field, reason) and does nothing for it', async () => {
    const id = (n: string) => childNamed(t, `Existing Customer 00${n}`).id;
    const before = {
      c01: childNamed(t, 'Existing Customer 0001').version,
      c03: childNamed(t, 'Existing Customer 0003'),
    };
    const file = tempCsv(
      `adopt-${randomUUID()}.csv`,
      [
        'Tenant,Tenant ID,External ID',
        'existing  customer 0001,,crm-1', // by a loosely typed name
        `,${id('02')},crm-2`,
        `,${id('03')},crm-3`,
        'Existing Customer 0003,,crm-3b', // the same tenant again
        `,${randomUUID()},crm-6`, // unknown
        'Twin Corp,,crm-7', // two tenants match
        'Stamped Elsewhere,,crm-8', // someone else's stamp
        'Existing Customer 0004,,', // no external id
      ].join('\n'),
    );
    t.sim.resetStats();
    const report = await runAdopt(t, { file });
    expect(report.plan.adopt.map((a) => a.key)).toEqual(['crm-1', 'crm-2']);
    expect(report.bad).toEqual([
      { line: 9, problems: [{ field: 'external_id', reason: expect.stringMatching(/required/) }] },
    ]);
    const refused = report.plan.refused.map((r) => [r.line, r.field, r.reason]);
    expect(refused).toEqual([
      [4, 'tenant', expect.stringMatching(/is adopted by line 5 too/)],
      [5, 'tenant', expect.stringMatching(/is adopted by line 4 too/)],
      [6, 'tenant_id', expect.stringMatching(/^no tenant .* among the partner's children/)],
      [7, 'tenant', expect.stringMatching(/"Twin Corp" names 2 tenants .*: name the one to adopt by tenant_id/)],
      [8, 'tenant', expect.stringMatching(/stamped with customer_id "other-crm-9" already .*--force/)],
    ]);
    const batchId = report.queued!.result.batch.id;
    expect(await t.waitForBatch(batchId)).toMatchObject({
      done: 2,
      failed: 0,
      source: 'adopt',
      csvRows: 8,
      csvBadRows: 6,
    });
    // The batch page lists the rows not adopted, as it lists an import's bad rows.
    expect((await t.pipeline.store.csvBadRows(batchId)).map((r) => r.line)).toEqual([4, 5, 6, 7, 8, 9]);

    const c01 = childNamed(t, 'Existing Customer 0001');
    expect(c01).toMatchObject({ customer_id: 'crm-1', version: before.c01 + 1 });
    expect(childNamed(t, 'Existing Customer 0002').customer_id).toBe('crm-2');
    expect(childNamed(t, 'Existing Customer 0003')).toMatchObject({ customer_id: null, version: before.c03.version });
    expect(tenantById(t, stampedId).customer_id).toBe('other-crm-9');
    // One PUT per adopted tenant, sent with the version the plan read: no read before it.
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(2);
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(0);
    // Every answer read back (the admin's roles included) is what the OAS describes.
    expect(t.sim.stats().responseViolations).toEqual([]);
    expect(calls(t, 'GET /users/{user_id}/access_policies')).toBe(1);

    const record = await t.pipeline.store.getCustomer('crm-1');
    expect(record).toMatchObject({ state: 'done', name: 'Existing Customer 0001', batchId });
    expect(record!.facts).toMatchObject({
      tenantId: c01.id,
      adopted: true,
      tenantCreated: false,
      userId: admin.id,
      login: admin.login,
      roles: ['company_admin'],
      pricingMode: 'production',
      offeringItemsEnabled: 0,
    });
    const results = await batchResults(
      { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
      batchId,
    );
    expect(results.map((r) => [r.customer, r.state, r.tenant_id, r.login])).toEqual([
      ['crm-1', 'done', c01.id, admin.login],
      ['crm-2', 'done', childNamed(t, 'Existing Customer 0002').id, ''],
    ]);
  });

  it('run again, it is a no-op: nothing queued, nothing sent', async () => {
    const file = tempCsv(
      `again-${randomUUID()}.csv`,
      'name,external_id\nExisting Customer 0001,crm-1\nExisting Customer 0002,crm-2\n',
    );
    t.sim.resetStats();
    const report = await runAdopt(t, { file });
    expect(report.plan.adopt).toEqual([]);
    expect(report.plan.already.map((a) => a.key)).toEqual(['crm-1', 'crm-2']);
    expect(report.queued).toBeUndefined();
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
  });

  it('a dry run writes nothing', async () => {
    t.sim.resetStats();
    const report = await runAdopt(t, { tenant: 'Existing Customer 0010', externalId: 'crm-10' }, { dryRun: true });
    expect(report.plan.adopt.map((a) => a.key)).toEqual(['crm-10']);
    expect(report.queued).toBeUndefined();
    expect(await t.pipeline.store.getCustomer('crm-10')).toBeUndefined();
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
  });

  it('an external id another tenant carries, or this install gives another tenant, is refused', async () => {
    const report = await runAdopt(t, { tenant: 'Existing Customer 0011', externalId: 'crm-1' });
    expect(report.plan.refused).toEqual([
      expect.objectContaining({ field: 'external_id', reason: expect.stringMatching(/is the customer_id of tenant/) }),
    ]);
    expect(report.queued).toBeUndefined();
  });

  it('--force takes over a tenant stamped by someone else', async () => {
    const report = await runAdopt(t, { tenant: stampedId, externalId: 'crm-8' }, { force: true });
    expect(report.plan.adopt).toMatchObject([{ key: 'crm-8', force: true }]);
    expect(await t.waitForBatch(report.queued!.result.batch.id)).toMatchObject({ done: 1 });
    expect(tenantById(t, stampedId).customer_id).toBe('crm-8');
  });
});

describe('exactly once', { timeout: 180_000 }, () => {
  it('a stamp whose answer was lost is not sent again: the re-run reads the tenant and finds it stamped', async () => {
    const tenant = childNamed(t, 'Existing Customer 0006');
    t.sim.configure({
      faults: [{ kind: 'commit-then-fail', path: '^/tenants/\\{tenant_id\\}$', methods: ['PUT'], times: 1 }],
    });
    t.sim.resetStats();
    const report = await runAdopt(t, { tenant: tenant.id, externalId: 'crm-6' });
    expect(await t.waitForBatch(report.queued!.result.batch.id)).toMatchObject({ done: 1, failed: 0 });
    t.sim.configure({ faults: [] });
    expect(tenantById(t, tenant.id)).toMatchObject({ customer_id: 'crm-6', version: tenant.version + 1 });
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(1);
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(1);
  });

  it('a stale version (someone changed the tenant since the plan read it) reads again and stamps once', async () => {
    const tenant = childNamed(t, 'Existing Customer 0012');
    t.sim.configure({
      faults: [{ kind: 'concurrent-write', path: '^/tenants/\\{tenant_id\\}$', methods: ['PUT'], times: 1 }],
    });
    t.sim.resetStats();
    const report = await runAdopt(t, { tenant: tenant.id, externalId: 'crm-12' });
    expect(await t.waitForBatch(report.queued!.result.batch.id)).toMatchObject({ done: 1, failed: 0 });
    t.sim.configure({ faults: [] });
    expect(tenantById(t, tenant.id).customer_id).toBe('crm-12');
    expect(t.sim.stats().byEndpoint['PUT /tenants/{tenant_id}']).toEqual({ '409': 1, '200': 1 });
    expect(calls(t, 'GET /tenants/{tenant_id}')).toBe(1);
  });

  it('a tenant stamped with the key whose record was lost is recorded again without a write', async () => {
    const tenant = childNamed(t, 'Existing Customer 0007');
    const api = simulatorApi(t.sim);
    expect((await api.put(`/tenants/${tenant.id}`, { customer_id: 'crm-7', version: tenant.version })).status).toBe(
      200,
    );
    t.sim.resetStats();
    const report = await runAdopt(t, { tenant: 'Existing Customer 0007', externalId: 'crm-7' });
    expect(await t.waitForBatch(report.queued!.result.batch.id)).toMatchObject({ done: 1 });
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
    expect(tenantById(t, tenant.id).version).toBe(tenant.version + 1);
    expect((await t.pipeline.store.getCustomer('crm-7'))?.facts.tenantId).toBe(tenant.id);
  });
});

describe('an adopted customer is a customer like any other', { timeout: 180_000 }, () => {
  it('suspend, resume and change act on it', async () => {
    const tenantId = childNamed(t, 'Existing Customer 0001').id;
    const suspended = await waitForActions(t, (await askFor(t, 'suspend', ['crm-1'])).batchId);
    expect(suspended.map((a) => a.state)).toEqual(['done']);
    expect(tenantById(t, tenantId).enabled).toBe(false);
    const resumed = await waitForActions(t, (await askFor(t, 'resume', ['Existing Customer 0001'])).batchId);
    expect(resumed.map((a) => a.state)).toEqual(['done']);
    expect(tenantById(t, tenantId).enabled).toBe(true);
    t.sim.resetStats();
    const changed = await waitForActions(
      t,
      (await askFor(t, 'change', ['crm-1'], { profile: STANDARD_PROFILE })).batchId,
    );
    expect(changed.map((a) => a.state)).toEqual(['done']);
    const enabled = t.sim.state().offeringItems[tenantId]!.filter((i) => i.status === 1);
    expect(enabled.length).toBeGreaterThan(0);
    // The admin read back holds the profile's role already: the change sends no roles.
    expect(calls(t, 'PUT /users/{user_id}/access_policies')).toBe(0);
  });

  it('--apply-profile queues the change, which runs once the adoption is done', async () => {
    const tenantId = childNamed(t, 'Existing Customer 0008').id;
    const report = await runAdopt(t, { tenant: tenantId, externalId: 'crm-8b' }, { applyProfile: true });
    expect(report.queued!.changeProblems).toEqual([]);
    expect(await t.waitForBatch(report.queued!.result.batch.id)).toMatchObject({ done: 1 });
    const actions = await waitForActions(t, report.queued!.changes!.batchId);
    expect(actions.map((a) => [a.action, a.state])).toEqual([['change', 'done']]);
    expect(t.sim.state().offeringItems[tenantId]!.some((i) => i.status === 1)).toBe(true);
  });
});

describe('import meeting a tenant made elsewhere', { timeout: 180_000 }, () => {
  it('fails naming the adopt command for that tenant; running it takes the customer over', async () => {
    const tenant = childNamed(t, 'Existing Customer 0009');
    const { batch } = await t.enqueue([
      { name: 'Existing Customer 0009', email: 'a@nine.example', external_id: 'crm-9' },
    ]);
    expect(await t.waitForBatch(batch.id)).toMatchObject({ failed: 1 });
    const failed = await t.pipeline.store.getCustomer('crm-9');
    const command = `acronis-onboard adopt --tenant ${tenant.id} --external-id crm-9`;
    expect(failed?.error).toContain(command);
    // `retry` will not repeat the conflict; it names the adoption as the way out.
    const retried = await retryCustomer(t.pipeline, 'crm-9');
    expect(retryLine(retried)).toContain(`if that tenant is this customer, adopt it: ${command}; else change the name`);
    const report = await runAdopt(t, { tenant: tenant.id, externalId: 'crm-9' });
    expect(report.queued!.result.customers).toMatchObject([{ key: 'crm-9', outcome: 'replaced' }]);
    expect(await t.waitForBatch(report.queued!.result.batch.id)).toMatchObject({ done: 1 });
    expect(await t.pipeline.store.getCustomer('crm-9')).toMatchObject({
      state: 'done',
      facts: { tenantId: tenant.id },
    });
    expect(tenantById(t, tenant.id).customer_id).toBe('crm-9');
  });
});
