import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../src/onboarding/profile.js';
import { readActionCsv } from '../../src/producers/action-csv.js';
import { CLI_CWD, runCli } from '../helpers/cli.js';
import { askFor, calls, waitForActions } from '../helpers/lifecycle.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * A customer's own quotas survive a later change (docs/lifecycle.md "Per-customer quotas"): the
 * onboarding remembers them, a change without --quota keeps them (through an edition switch too),
 * one with --quota replaces them and `item=profile` hands one back to the profile's.
 */

let t: TestPipeline;
const own = 'own-1';
const plain = 'own-2';

function file(name: string, text: string): string {
  const path = join(CLI_CWD, name);
  writeFileSync(path, text);
  return path;
}

const standard = fileURLToPath(new URL('../../profiles/standard.json', import.meta.url));
const perGigabyteProfile = {
  name: 'per-gigabyte',
  editions: ['pck_per_gigabyte', 'pck_per_workload'],
  offering_items: { include: ['workstations', 'storage'], quotas: { workstations: { value: 20, overage: 0 } } },
};
let perGigabyte: string;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'own-quotas' });
  await t.startWorkers();
  perGigabyte = file('per-gigabyte.json', JSON.stringify(perGigabyteProfile));
  const customers = file(
    'customers.csv',
    [
      'name,email,external_id,Quota Workstations',
      `Own Quotas 1,it@own-1.example,${own},25`,
      `Own Quotas 2,it@own-2.example,${plain},`,
    ].join('\n'),
  );
  const run = await runCli(t, ['import', customers, '--wait']);
  expect(run.code, run.stderr).toBe(0);
});
afterAll(async () => {
  await t?.close();
});

const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;
const quotaOf = (key: string, name: string) =>
  t.sim.state().offeringItems[tenantOf(key).id]!.find((i) => i.name === name && i.status === 1)?.quota;
const ownQuotasOf = async (key: string) => (await t.pipeline.store.getCustomer(key))?.facts.ownQuotas;
const change = (key: string, profile: string, ...more: string[]) =>
  runCli(t, ['change', key, '--profile', profile, ...more, '--wait']);

describe("a customer's own quotas", () => {
  it("the onboarding remembers a CSV row's quota; a change to another profile without --quota keeps it, at the floor of calls", async () => {
    expect(quotaOf(own, 'pw_base_workstations')).toMatchObject({ value: 25, overage: 0 });
    expect(await ownQuotasOf(own)).toEqual({ workstations: 25 });
    // No quota of its own (as a record made before they were remembered): the profile's.
    expect(quotaOf(plain, 'pw_base_workstations')).toMatchObject({ value: 50, overage: 5 });
    expect(await ownQuotasOf(plain)).toBeUndefined();

    t.sim.resetStats();
    const profile = parseProfile(perGigabyteProfile, 'test');
    const queued = await askFor(t, 'change', [own, plain], { profile });
    const actions = await waitForActions(t, queued.batchId);
    expect(actions.map((a) => [a.state, a.error])).toEqual([
      ['done', undefined],
      ['done', undefined],
    ]);
    expect(actions[0]!.outcome).toMatch(
      /edition pck_per_workload → pck_per_gigabyte; 2 items on, 1 off; own quotas workstations=25 \(kept\)/,
    );
    expect(quotaOf(own, 'pg_base_workstations')).toMatchObject({ value: 25, overage: 0 });
    expect(quotaOf(plain, 'pg_base_workstations')).toMatchObject({ value: 20, overage: 0 });
    expect(await ownQuotasOf(own)).toEqual({ workstations: 25 });
    // Per customer: one read of the items, one edition switch, one PUT of the items.
    expect(calls(t, 'GET /tenants/{tenant_id}/offering_items')).toBe(2);
    expect(calls(t, 'PUT /tenants/{tenant_id}/edition')).toBe(2);
    expect(calls(t, 'PUT /tenants/{tenant_id}/offering_items')).toBe(2);
  });

  it("change --quota item=n, then a change without: n stays; item=profile returns the profile's quota", async () => {
    let run = await change(own, perGigabyte, '--quota', 'workstations=30');
    expect(run.code, run.stderr).toBe(0);
    expect(quotaOf(own, 'pg_base_workstations')).toMatchObject({ value: 30, overage: 0 });
    expect(await ownQuotasOf(own)).toEqual({ workstations: 30 });

    const dry = await runCli(t, ['change', own, '--profile', standard, '--dry-run']);
    expect(dry.stdout).toContain(
      `would change Own Quotas 1 (${own}): profile standard, own quotas workstations=30 (kept)`,
    );
    run = await change(own, standard);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/edition pck_per_gigabyte → pck_per_workload; .*own quotas workstations=30 \(kept\)/);
    expect(quotaOf(own, 'pw_base_workstations')).toMatchObject({ value: 30, overage: 0 });

    run = await change(own, standard, '--quota', 'workstations=profile');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/workstations back to the profile's quota/);
    expect(quotaOf(own, 'pw_base_workstations')).toMatchObject({ value: 50, overage: 5 });
    expect(await ownQuotasOf(own)).toEqual({});
    // Nothing of its own any more: the next change keeps the profile's.
    run = await change(own, standard);
    expect(run.code, run.stderr).toBe(0);
    expect(quotaOf(own, 'pw_base_workstations')).toMatchObject({ value: 50, overage: 5 });
  });

  it('the partner-quota check counts the kept quotas; a kept quota for an item the profile drops goes with it', async () => {
    // An action CSV's quota cell sets one (servers, onto the per-workload edition).
    const actions = file('servers.csv', `external_id,action,quota servers\n${plain},change,3\n`);
    let run = await runCli(t, ['import', actions, '--profile', standard, '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(quotaOf(plain, 'pw_base_servers')).toMatchObject({ value: 3, overage: 0 });
    expect(await ownQuotasOf(plain)).toEqual({ servers: 3 });

    await partnerQuota('pw_base_servers', 2);
    try {
      run = await runCli(t, ['change', plain, '--profile', standard]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(
        `customer "${plain}": quotas.servers: its own quota of 3, kept from its onboarding or an earlier change, is over the partner's own quota of 2 for pw_base_servers: give a lower one, or "profile" for the profile's`,
      );
      const within = await runCli(t, ['change', plain, '--profile', standard, '--quota', 'servers=2', '--dry-run']);
      expect(within.code, within.stderr).toBe(0);
      expect(within.stdout).toContain('own quotas servers=2');
    } finally {
      await partnerQuota('pw_base_servers', null);
    }

    // The per-gigabyte profile has no servers: the item goes off, and its own quota with it.
    run = await change(plain, perGigabyte);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/own quota servers dropped: the profile does not enable it/);
    expect(await ownQuotasOf(plain)).toEqual({});
    run = await change(plain, standard);
    expect(run.code, run.stderr).toBe(0);
    // Back on, it has the profile's quota for servers (none: unlimited), not the 3 it once had.
    expect(quotaOf(plain, 'pw_base_servers')).toMatchObject({ value: null });
  });

  it("reads `profile` in an action CSV's quota cell as the item handed back to the profile's quota", async () => {
    const csv = await readActionCsv(
      file(
        'reset.csv',
        `external_id,action,quota workstations,quota servers\na-1,change,Profile,4\na-2,change,lots,\n`,
      ),
    );
    expect(csv.rows).toEqual([
      { line: 2, customer: 'a-1', action: 'change', quotas: { servers: 4 }, resetQuotas: ['workstations'] },
    ]);
    expect(csv.bad).toEqual([
      { line: 3, problems: [{ field: 'quotas.workstations', reason: 'must be a whole number ≥ 0' }] },
    ]);
  });
});

async function partnerQuota(name: string, value: number | null): Promise<void> {
  const res = await fetch(`${t.sim.url}/__sim/quota`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant_id: t.sim.seed.partnerTenantId, name, value }),
  });
  expect(res.status).toBe(204);
}
