import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { parseProfile, STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { actionJobId, actionSteps, type ActionJob } from '../../src/lifecycle/action.js';
import { readActionCsv } from '../../src/producers/action-csv.js';
import { checkActions } from '../../src/workers/enqueue-action.js';
import { askFor, calls, OPERATOR, waitForActions } from '../helpers/lifecycle.js';
import { until } from '../helpers/wait.js';
import { sampleCustomers, startTestPipeline, type TestPipeline, type TestWorkers } from '../helpers/pipeline.js';

let t: TestPipeline;
let workers: TestWorkers;
const customers = sampleCustomers(4, 'Change');
const keys = customers.map(customerKeyOf);

beforeAll(async () => {
  t = await startTestPipeline({ label: 'change' });
  workers = await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 4 });
});
afterAll(async () => {
  await t?.close();
});

const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;
const enabledItems = (key: string) =>
  t.sim
    .state()
    .offeringItems[tenantOf(key).id]!.filter((i) => i.status === 1)
    .map((i) => i.name)
    .sort();

const perGigabyte = parseProfile(
  {
    name: 'per-gigabyte',
    editions: ['pck_per_gigabyte', 'pck_per_workload'],
    offering_items: { include: ['workstations', 'storage'], quotas: { workstations: { value: 20, overage: 0 } } },
    pricing_mode: 'production',
    mfa: true,
  },
  'test',
);

describe('change', () => {
  it('holds only the steps its profile can need: no pricing step for a trial profile, two-factor only when set', () => {
    expect(actionSteps('change', { profile: STANDARD_PROFILE })).toEqual(['change-offering-items', 'change-roles']);
    expect(actionSteps('change', { profile: perGigabyte })).toEqual([
      'change-offering-items',
      'change-pricing',
      'change-roles',
      'change-mfa',
    ]);
  });

  it('switches the edition through the edition endpoint, reconciles the items as a whole, pricing, roles and two-factor', async () => {
    const key = keys[0]!;
    expect(enabledItems(key)).toEqual(['pw_base_servers', 'pw_base_storage', 'pw_base_workstations']);
    t.sim.resetStats();
    const queued = await askFor(t, 'change', [key], { profile: perGigabyte });
    const [action] = await waitForActions(t, queued.batchId);
    expect(action, action?.error).toMatchObject({ state: 'done' });
    expect(action!.outcome).toMatch(
      /edition pck_per_workload → pck_per_gigabyte; 2 items on, 1 off; pricing trial → production/,
    );
    expect(action!.outcome).toMatch(/two-factor on/);
    expect(enabledItems(key)).toEqual(['pg_base_storage', 'pg_base_workstations']);
    const workstations = t.sim.state().offeringItems[tenantOf(key).id]!.find((i) => i.name === 'pg_base_workstations');
    expect(workstations?.quota?.value).toBe(20);
    expect(tenantOf(key)).toMatchObject({ pricing_mode: 'production', mfa_status: 'enabled' });
    expect(calls(t, 'PUT /tenants/{tenant_id}/edition')).toBe(1);
    expect(calls(t, 'PUT /tenants/{tenant_id}/offering_items')).toBe(1);
    // The items read once for the edition and the reconcile (the switch answers the items after it).
    expect(calls(t, 'GET /tenants/{tenant_id}/offering_items')).toBe(1);
    // The profile keeps the roles the onboarding set: nothing sent for them.
    expect(action!.outcome).toMatch(/roles company_admin kept/);
    expect(calls(t, 'PUT /users/{user_id}/access_policies')).toBe(0);
  });

  it('sends the roles only when the profile asks other roles than acronis-onboard set last', async () => {
    const key = keys[0]!;
    const admin = t.sim.state().users.find((u) => u.tenant_id === tenantOf(key).id)!;
    const readonly = parseProfile({ ...perGigabyte, roles: ['readonly_admin'] }, 'test');
    t.sim.resetStats();
    let [action] = await waitForActions(t, (await askFor(t, 'change', [key], { profile: readonly })).batchId);
    expect(action, action?.error).toMatchObject({ state: 'done' });
    expect(calls(t, 'PUT /users/{user_id}/access_policies')).toBe(1);
    expect(t.sim.state().accessPolicies[admin.id]!.map((p) => p.role_id)).toEqual(['readonly_admin']);
    // The same again: compared with the roles that change set, nothing is sent.
    t.sim.resetStats();
    [action] = await waitForActions(t, (await askFor(t, 'change', [key], { profile: readonly })).batchId);
    expect(action!.outcome).toMatch(/roles readonly_admin kept/);
    expect(calls(t, 'PUT /users/{user_id}/access_policies')).toBe(0);
    expect(calls(t, 'GET /tenants/{tenant_id}/offering_items')).toBe(1);
  });

  it('a step with nothing to send gets no job: the step before decides it and hands over past it', async () => {
    const key = keys[0]!;
    // The roles the test before set last: nothing to send for them.
    const readonly = parseProfile({ ...perGigabyte, roles: ['readonly_admin'] }, 'test');
    const queued = await askFor(t, 'change', [key], { profile: readonly });
    const [action] = await waitForActions(t, queued.batchId);
    expect(action, action?.error).toMatchObject({ state: 'done' });
    expect(action!.outcome).toMatch(/roles readonly_admin kept; two-factor|roles readonly_admin kept$/);
    const job = (step: Parameters<typeof actionJobId>[1]) => t.pipeline.queue.getJob(actionJobId(action!.id, step));
    expect(await job('change-pricing')).toBeDefined();
    expect(await job('change-roles')).toBeUndefined();
    expect(await job('change-mfa')).toBeDefined();
  });

  it('a step run again after it handed over past a step with nothing to send is not repeated', async () => {
    // As after a crash between the hand-over and the job's completion: change-pricing's job runs
    // again while the job it added, change-mfa's (past change-roles), is there already.
    const key = keys[3]!;
    await workers.close();
    const queued = await askFor(t, 'change', [key], { profile: perGigabyte });
    const actionId = (await t.pipeline.actions.batchActions(queued.batchId))[0]!.id;
    const first = (await t.pipeline.queue.getJob(actionJobId(actionId, 'change-offering-items')))!;
    const data = { ...(first.data as unknown as ActionJob), facts: { tenantId: tenantOf(key).id } };
    await first.remove();
    const queue = t.pipeline.queue as unknown as { add(name: string, data: ActionJob, opts: object): Promise<unknown> };
    await queue.add('change-pricing', data, { jobId: actionJobId(actionId, 'change-pricing') });
    await queue.add('change-mfa', data, { jobId: actionJobId(actionId, 'change-mfa'), delay: 3_600_000 });
    t.sim.resetStats();
    workers = await t.startWorkers();
    const pricing = (await t.pipeline.queue.getJob(actionJobId(actionId, 'change-pricing')))!;
    await until(async () => (await pricing.getState()) === 'completed', 'change-pricing to complete');
    expect((await t.pipeline.queue.getJob(pricing.id!))!.returnvalue).toEqual({ handedOver: true });
    expect(calls(t, 'GET /tenants/{tenant_id}/pricing')).toBe(0);
    await (await t.pipeline.queue.getJob(actionJobId(actionId, 'change-mfa')))!.promote();
    const [action] = await waitForActions(t, queued.batchId);
    expect(action, action?.error).toMatchObject({ state: 'done' });
    expect(tenantOf(key)).toMatchObject({ mfa_status: 'enabled' });
  });

  it('an item with usage that the profile would turn off: the outcome names it and what was applied before it', async () => {
    const key = keys[1]!;
    const usage = await fetch(`${t.sim.url}/__sim/usage`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: tenantOf(key).id, name: 'pw_base_servers', value: 3 }),
    });
    expect(usage.status).toBe(204);
    const keepEdition = parseProfile({ ...perGigabyte, editions: ['pck_per_workload'], mfa: true }, 'test');
    const queued = await askFor(t, 'change', [key], { profile: keepEdition });
    const [action] = await waitForActions(t, queued.batchId);
    expect(action).toMatchObject({ state: 'failed' });
    expect(action!.error).toMatch(/offering item pw_base_servers has usage and cannot be disabled: no item changed/);
    expect(action!.error).toMatch(/applied before it: edition pck_per_workload kept/);
    // Nothing after the refusal ran: two-factor and pricing as they were.
    expect(enabledItems(key)).toEqual(['pw_base_servers', 'pw_base_storage', 'pw_base_workstations']);
    expect(tenantOf(key)).toMatchObject({ mfa_status: 'disabled', pricing_mode: 'trial' });
  });

  it('refuses before anything is queued an edition the profile does not have and one the partner does not offer', async () => {
    const deps = {
      queue: t.pipeline.queue,
      store: t.pipeline.store,
      actions: t.pipeline.actions,
      partnerTenantId: t.sim.seed.partnerTenantId,
      offers: t.pipeline.offers,
      acronis: t.pipeline.acronis,
    };
    // A profile naming another storage (the disaster-recovery one) would turn the customer's one storage off.
    const dr = t.sim.seed.infras.find((i) => i.capabilities.includes('disaster_recovery'))!;
    const noStorage = parseProfile(
      { ...STANDARD_PROFILE, name: 'other-storage', storage: { infra_id: dr.id } },
      'test',
    );
    const { accepted, problems } = await checkActions(deps, [
      {
        customer: keys[2]!,
        action: 'change',
        params: { profile: perGigabyte, edition: 'per_gigabyte' },
        requester: OPERATOR,
      },
      { customer: keys[2]!, action: 'change', params: { profile: noStorage }, requester: OPERATOR },
    ]);
    expect(accepted).toEqual([]);
    expect(problems[0]).toMatchObject({ customer: keys[2], field: 'edition' });
    expect(problems[1]).toMatchObject({ customer: keys[2] });
    expect(problems[1]!.field).toMatch(/^profile /);
    expect(problems[1]!.reason).toMatch(/storage/);
  });
});

describe('change with per-customer quotas', () => {
  const deps = () => ({
    queue: t.pipeline.queue,
    store: t.pipeline.store,
    actions: t.pipeline.actions,
    partnerTenantId: t.sim.seed.partnerTenantId,
    offers: t.pipeline.offers,
    acronis: t.pipeline.acronis,
  });
  const partnerQuota = async (name: string, value: number | null) => {
    const res = await fetch(`${t.sim.url}/__sim/quota`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant_id: t.sim.seed.partnerTenantId, name, value }),
    });
    expect(res.status).toBe(204);
  };
  const quotaOf = (key: string, name: string) =>
    t.sim.state().offeringItems[tenantOf(key).id]!.find((i) => i.name === name)?.quota;

  it("sets the customer's own quota as a hard quota of exactly that many; the other items keep the profile's", async () => {
    const key = keys[2]!;
    const { accepted, problems } = await checkActions(deps(), [
      {
        customer: key,
        action: 'change',
        params: { profile: STANDARD_PROFILE, quotas: { workstations: 7 } },
        requester: OPERATOR,
      },
    ]);
    expect(problems).toEqual([]);
    expect(accepted).toHaveLength(1);
    const queued = await askFor(t, 'change', [key], { profile: STANDARD_PROFILE, quotas: { workstations: 7 } });
    const [action] = await waitForActions(t, queued.batchId);
    expect(action, action?.error).toMatchObject({ state: 'done' });
    expect(quotaOf(key, 'pw_base_workstations')).toMatchObject({ value: 7, overage: 0 });
  });

  it("refuses before anything is queued a quota over the partner's own, naming the customer and the field", async () => {
    await partnerQuota('pw_base_workstations', 10);
    try {
      const { accepted, problems } = await checkActions(deps(), [
        // The customer's own quota over the partner's 10.
        {
          customer: keys[2]!,
          action: 'change',
          params: { profile: STANDARD_PROFILE, quotas: { workstations: 12 } },
          requester: OPERATOR,
        },
        // The profile's own quota (50 workstations) over it, the customer's own (7) handed back to the profile.
        {
          customer: keys[2]!,
          action: 'change',
          params: { profile: STANDARD_PROFILE, resetQuotas: ['workstations'] },
          requester: OPERATOR,
        },
        // Within it: accepted.
        {
          customer: keys[2]!,
          action: 'change',
          params: { profile: STANDARD_PROFILE, quotas: { workstations: 10 } },
          requester: OPERATOR,
        },
        // An item the profile does not enable.
        {
          customer: keys[2]!,
          action: 'change',
          params: { profile: STANDARD_PROFILE, quotas: { mailboxes: 3 } },
          requester: OPERATOR,
        },
      ]);
      expect(problems).toEqual([
        {
          customer: keys[2],
          field: 'quotas.workstations',
          reason: "12 is over the partner's own quota of 10 for pw_base_workstations",
        },
        {
          customer: keys[2],
          field: 'profile offering_items.quotas.pw_base_workstations',
          reason: "50 is over the partner's own quota of 10 for pw_base_workstations",
        },
        expect.objectContaining({ customer: keys[2], field: 'quotas.mailboxes' }),
      ]);
      expect(accepted.map((a) => a.params.quotas)).toEqual([{ workstations: 10 }]);
    } finally {
      await partnerQuota('pw_base_workstations', null);
    }
  });

  it("reads a CSV's quota <item> columns for change rows, and names a bad cell or a quota on another action", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'change-quotas-'));
    const file = join(dir, 'changes.csv');
    await writeFile(
      file,
      [
        'external_id,action,Quota Workstations,quota servers',
        'a-1,change,12,',
        'a-2,change,many,2',
        'a-3,suspend,4,',
      ].join('\n'),
    );
    const csv = await readActionCsv(file);
    await rm(dir, { recursive: true, force: true });
    expect(csv.rows).toEqual([{ line: 2, customer: 'a-1', action: 'change', quotas: { workstations: 12 } }]);
    expect(csv.bad).toEqual([
      { line: 3, problems: [{ field: 'quotas.workstations', reason: 'must be a whole number ≥ 0' }] },
      { line: 4, problems: [{ field: 'quotas.workstations', reason: 'applies to change only, not suspend' }] },
    ]);
  });
});
