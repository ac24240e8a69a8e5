import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';
import { consoleEdit } from '../helpers/reconcile.js';
import { simulatorApi } from '../helpers/simulator.js';

/**
 * The lifecycle, reconcile and adopt commands in an install of two partners in two data centres
 * (docs/lifecycle.md, docs/reconcile.md, docs/adopt.md): `--partner` restricts what is acted on
 * and refuses the others naming their partner; a sweep reads each partner's tenants through its
 * own data centre and its findings name their partner; adoption reaches the named partner's children.
 */
let t: TwoPartnerInstall;
const east = sampleCustomers(3, 'East');
const west = sampleCustomers(3, 'West', { partner: 'dc2' });

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'partner-commands' });
  await t.startWorkers();
  const { batch } = await t.producer.enqueue({ source: 'test', label: 'two partners' }, [...east, ...west]);
  expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 6, failed: 0 });
});
afterAll(async () => {
  await t?.close();
});

const cli = (args: string[]) => runCli(t, args, t.secretEnv);
const tenantOf = (sim: (typeof t.sims)[number], key: string) =>
  sim.state().tenants.find((x) => x.customer_id === key && x.deleted_at === null);

describe('suspend --partner', () => {
  it("suspends the named partner's customer and refuses the other's, naming its partner", async () => {
    const run = await cli(['suspend', 'East-1', 'West-1', '--partner', 'dc2', '--wait']);
    expect(run.code, run.stdout + run.stderr).toBe(1);
    expect(run.stderr).toContain(`customer "East-1": partner: it is partner "dc1"'s customer, not "dc2"'s (--partner)`);
    expect(run.stdout).toMatch(/batch \S+: 1 action queued, 1 refused/);
    expect(tenantOf(t.sims[1], 'West-1')?.enabled).toBe(false);
    expect(tenantOf(t.sims[0], 'East-1')?.enabled).toBe(true);
  });

  it('refuses a partner the install does not serve, naming the known ones (exit 2)', async () => {
    const run = await cli(['suspend', 'East-2', '--partner', 'dc9']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('acronis-onboard: unknown partner "dc9": this install serves "dc1", "dc2"');
    expect(tenantOf(t.sims[0], 'East-2')?.enabled).toBe(true);
  });
});

describe('reconcile with two partners', () => {
  it('finds drift in the second data centre, through its own client, and names the partner', async () => {
    await consoleEdit(t.sims[1], 'tenant', { tenant_id: tenantOf(t.sims[1], 'West-2')?.id, enabled: false });
    const calls = (sim: (typeof t.sims)[number]) =>
      Object.values(sim.stats().byEndpoint)
        .flatMap((byStatus) => Object.values(byStatus))
        .reduce((n, c) => n + c, 0);
    const before = t.sims.map(calls);
    const run = await cli(['reconcile', '--json']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      findings: { customerId: string; partner?: string; differences: { kind: string }[] }[];
    };
    const byKey = new Map(report.findings.map((f) => [f.customerId, f]));
    expect([...byKey.keys()].sort()).toEqual(['East-1', 'East-2', 'East-3', 'West-1', 'West-2', 'West-3']);
    expect(byKey.get('West-2')).toMatchObject({ partner: 'dc2' });
    expect(byKey.get('West-2')?.differences.map((d) => d.kind)).toContain('tenant-disabled');
    const kinds = (key: string) => byKey.get(key)?.differences.map((d) => d.kind) ?? [];
    expect(byKey.get('East-2')).toMatchObject({ partner: 'dc1' });
    expect(kinds('East-2')).not.toContain('tenant-disabled');
    // West-1 is suspended by our own action: disabled as it should be.
    expect(kinds('West-1')).not.toContain('tenant-disabled');
    // Each data centre's tenants were read from that data centre.
    t.sims.forEach((sim, i) => expect(calls(sim)).toBeGreaterThan(before[i] as number));

    const table = await cli(['reconcile', '--partner', 'dc2']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/West-2 {2}West Customer 2 {2}tenant \S+ {2}partner dc2/);
    expect(table.stdout).not.toContain('East-');
  });
});

describe('reconcile with one partner refused', () => {
  it("reads the other partner's tenants and names the one not read (exit 1)", async () => {
    const run = await runCli(t, ['reconcile'], { ...t.secretEnv, DC2_CLIENT_SECRET: 'not-the-secret-of-dc2' });
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/^partner dc2: not read: .*401/m);
    expect(run.stdout).toMatch(/sweep: 3 customers read/);
    expect(run.stdout).not.toContain('not-the-secret-of-dc2');
  });
});

describe('adopt --partner', () => {
  it("adopts a child of the second partner's tenant through its data centre; the record names dc2", async () => {
    const api = simulatorApi(t.sims[1]);
    const made = await api.post('/tenants', {
      name: 'Made In DC2',
      parent_id: t.sims[1].seed.partnerTenantId,
      kind: 'customer',
    });
    expect(made.status).toBe(201);
    const run = await cli([
      'adopt',
      '--tenant',
      'Made In DC2',
      '--external-id',
      'DC2-ADOPTED',
      '--partner',
      'dc2',
      '--wait',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('1 adopted, 0 failed');
    expect(t.sims[1].state().tenants.find((x) => x.id === made.body.id)?.customer_id).toBe('DC2-ADOPTED');
    expect(await t.app.store.getCustomer('DC2-ADOPTED')).toMatchObject({ partner: 'dc2', state: 'done' });

    // Without --partner the default partner's children are read: dc2's tenant is not among them.
    const plain = await cli(['adopt', '--tenant', 'Made In DC2', '--external-id', 'DC2-AGAIN', '--dry-run']);
    expect(plain.code, plain.stdout + plain.stderr).toBe(1);
    expect(plain.stdout).toMatch(/dry run: 0 tenants would be adopted, 1 refused/);
  });
});
