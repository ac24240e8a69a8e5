import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { askFor, waitForActions } from '../helpers/lifecycle.js';
import { runCli } from '../helpers/cli.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { consoleEdit, customerAt } from '../helpers/reconcile.js';

/** `acronis-onboard reconcile` as an operator runs it: its three outputs and what --fix refuses. */

let t: TestPipeline;
const customers = [
  ...sampleCustomers(2, 'Cli'),
  { ...sampleCustomers(1, 'Formula')[0]!, name: '=HYPERLINK("http://x.example")' },
];

beforeAll(async () => {
  t = await startTestPipeline({ label: 'reconcile-cli' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  await t.waitForBatch(batch.id);
  await consoleEdit(t.sim, 'tenant', { tenant_id: customerAt(t, 'Cli-1').tenantId, enabled: false });
});
afterAll(async () => t?.close());

describe('reconcile command', () => {
  it('prints each drifting customer with its differences in words, then the sweep in one line', async () => {
    const run = await runCli(t, ['reconcile']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Cli-1 {2}Cli Customer 1 {2}tenant [0-9a-f-]{36}$/m);
    expect(run.stdout).toMatch(
      /tenant-disabled +the tenant is disabled, and no suspend or offboard of acronis-onboard says so/,
    );
    expect(run.stdout).toMatch(
      /full sweep: 3 customers read \(3 changed or asked\), 3 drifting in all .*; \d+ API calls, 2 of them listing pages/,
    );
  });

  it('--format csv: one row per difference, a formula-looking name made inert', async () => {
    const run = await runCli(t, ['reconcile', '--format', 'csv', '--full']);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('customer_id,name,batch_id,tenant_id,kind,field,expected,actual,difference');
    expect(lines.filter((l) => l.startsWith('Cli-1,')).map((l) => l.split(',')[4])).toContain('tenant-disabled');
    expect(run.stdout).toContain(`"'=HYPERLINK(""http://x.example"")"`);
  });

  it('--json: the summary, each finding and the funnel', async () => {
    const run = await runCli(t, ['reconcile', '--json', '--customer', 'Cli-2']);
    const out = JSON.parse(run.stdout) as {
      summary: { mode: string };
      findings: { customerId: string; funnel: object }[];
    };
    expect(out.summary.mode).toBe('full');
    expect(out.findings.map((f) => f.customerId)).toEqual(['Cli-2']);
    expect(out.findings[0]!.funnel).toEqual({ created: true, activated: false, agentRegistered: false });
  });

  it('--fix names an unknown customer (exit 2) and refuses a customer waiting for its deletion (exit 1)', async () => {
    const unknown = await runCli(t, ['reconcile', '--fix', '--customer', 'Nobody-9']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout).toContain('Nobody-9: unknown');

    const { batchId } = await askFor(t, 'offboard', ['Cli-2'], { graceMs: 86_400_000 });
    await waitForActions(t, batchId);
    const tenantId = customerAt(t, 'Cli-2').tenantId;
    const before = t.sim.state().tenants.find((x) => x.id === tenantId)!;
    const workstations = t.sim.state().offeringItems[tenantId]!.find((i) => i.usage_name === 'workstations')!;
    await consoleEdit(t.sim, 'quota', { tenant_id: tenantId, name: workstations.name, value: 3 });
    const refused = await runCli(t, ['reconcile', '--fix', '--customer', 'Cli-2']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/Cli-2: not fixed: action: it is to be deleted at/);
    // Nothing deleted, nothing resumed.
    const after = t.sim.state().tenants.find((x) => x.id === tenantId)!;
    expect({ enabled: after.enabled, deleted: after.deleted_at }).toEqual({ enabled: before.enabled, deleted: null });
  });
});
