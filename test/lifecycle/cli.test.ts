import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { runCli, CLI_CWD } from '../helpers/cli.js';
import { calls, waitForActions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;
const customers = sampleCustomers(4, 'LifeCli');
const keys = customers.map(customerKeyOf);

beforeAll(async () => {
  t = await startTestPipeline({ label: 'lifecycle-cli' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 4 });
});
afterAll(async () => {
  await t?.close();
});

const tenantOf = (key: string) => t.sim.state().tenants.find((x) => x.customer_id === key)!;
const batchIdOf = (stdout: string) => /batch (ab-\S+):/.exec(stdout)?.[1] as string;

function csv(name: string, text: string): string {
  const file = join(CLI_CWD, name);
  writeFileSync(file, text);
  return file;
}

describe('suspend and resume from the command line', () => {
  it('suspend --wait suspends one customer named by its name, and status/results say so', async () => {
    const run = await runCli(t, ['suspend', customers[0]!.name, '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/done {2}suspend LifeCli Customer 1 \(LifeCli-1\): disabled/);
    expect(tenantOf(keys[0]!).enabled).toBe(false);
    const batchId = batchIdOf(run.stdout);
    const status = await runCli(t, ['status', batchId]);
    expect(status.stdout).toMatch(/suspend .* ended {2}total 1 {2}done 1/);
    const results = await runCli(t, ['results', batchId]);
    expect(results.stdout.split('\n')[0]).toBe(
      'customer,name,action,state,outcome,requested_by,tenant_id,started_at,finished_at,delete_at,error',
    );
    expect(results.stdout).toContain('LifeCli-1,LifeCli Customer 1,suspend,done,disabled,operator: operator (CLI)');
  });

  it('refuses an unknown customer before anything is queued, naming it and saying how to adopt it (exit 2)', async () => {
    const run = await runCli(t, ['resume', 'Nobody At All']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/customer "Nobody At All": customer: unknown customer: not onboarded by this install/);
    expect(run.stderr).toMatch(/adopt/);
    expect(await t.pipeline.actions.listBatches()).toHaveLength(1);
  });

  it('a CSV with an action column goes through import, bad rows named by line and field; --dry-run queues nothing', async () => {
    const file = csv(
      'actions.csv',
      `external_id,action\n${keys[0]},resume\n${keys[1]},suspend\n${keys[2]},explode\n,resume\n`,
    );
    const dry = await runCli(t, ['import', file, '--dry-run']);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain(`would resume LifeCli Customer 1 (${keys[0]})`);
    expect(dry.stderr).toMatch(/line 4: action: must be one of/);
    expect(dry.stderr).toMatch(/line 5: customer: empty/);
    expect(await t.pipeline.actions.listBatches()).toHaveLength(1);

    const run = await runCli(t, ['import', file]);
    expect(run.code).toBe(1);
    const actions = await waitForActions(t, batchIdOf(run.stdout));
    expect(actions.map((a) => [a.action, a.state])).toEqual([
      ['resume', 'done'],
      ['suspend', 'done'],
    ]);
    expect(actions[0]!.requester).toBe(`operator (CSV ${file}) line 2`);
    expect(tenantOf(keys[0]!).enabled).toBe(true);
    expect(tenantOf(keys[1]!).enabled).toBe(false);
  });
});

describe('change --quota', () => {
  const standard = fileURLToPath(new URL('../../profiles/standard.json', import.meta.url));
  const quotaOf = (key: string, name: string) =>
    t.sim.state().offeringItems[tenantOf(key).id]!.find((i) => i.name === name)?.quota;

  it('sets a per-customer quota; a quota that is no whole number or for an item the profile lacks is refused (exit 2)', async () => {
    const bad = await runCli(t, ['change', keys[1]!, '--profile', standard, '--quota', 'workstations=many']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--quota workstations: must be a whole number ≥ 0/);
    const outside = await runCli(t, ['change', keys[1]!, '--profile', standard, '--quota', 'mailboxes=3']);
    expect(outside.code).toBe(2);
    expect(outside.stderr).toMatch(/quotas\.mailboxes: is not an item of the profile/);
    const dry = await runCli(t, ['change', keys[1]!, '--profile', standard, '--quota', 'workstations=12', '--dry-run']);
    expect(dry.stdout).toContain(
      `would change LifeCli Customer 2 (${keys[1]}): profile standard, own quotas workstations=12`,
    );

    const run = await runCli(t, ['change', keys[1]!, '--profile', standard, '--quota', 'workstations=12', '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(quotaOf(keys[1]!, 'pw_base_workstations')).toMatchObject({ value: 12, overage: 0 });
  });
});

describe('offboard confirmations', () => {
  it('does nothing without the typed name, and nothing with a wrong one', async () => {
    t.sim.resetStats();
    const none = await runCli(t, ['offboard', keys[2]!]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/nothing done: .*confirm with --confirm "LifeCli Customer 3"/);
    const wrong = await runCli(t, ['offboard', keys[2]!, '--confirm', 'LifeCli Customer 4']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/the name typed is not "LifeCli Customer 3"/);
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
    expect(await t.pipeline.actions.pendingDeletions()).toEqual([]);
  });

  it('a batch of N needs --yes-delete N; then results list what was disabled and when it will be deleted', async () => {
    const file = csv('offboard.csv', `external_id\n${keys[2]}\n${keys[3]}\n`);
    const once = await runCli(t, ['import', file, '--action', 'offboard', '--yes-delete', '1']);
    expect(once.code).toBe(2);
    expect(once.stderr).toMatch(/confirm with --yes-delete 2/);
    const run = await runCli(t, ['offboard', file, '--yes-delete', '2', '--grace-days', '7']);
    expect(run.code, run.stderr).toBe(0);
    const batchId = batchIdOf(run.stdout);
    await waitForActions(t, batchId);
    expect(tenantOf(keys[2]!).enabled).toBe(false);
    const results = await runCli(t, ['results', batchId, '--format', 'json']);
    const rows = JSON.parse(results.stdout) as { state: string; delete_at: string; outcome: string }[];
    expect(rows.map((r) => r.state)).toEqual(['pending-deletion', 'pending-deletion']);
    for (const row of rows) {
      const days = (Date.parse(row.delete_at) - Date.now()) / 86_400_000;
      expect(days).toBeGreaterThan(6.9);
      expect(days).toBeLessThan(7.1);
      expect(row.outcome).toMatch(/^disabled; to be deleted at /);
    }

    const cancel = await runCli(t, ['offboard', keys[3]!, '--cancel']);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(/offboard of .* cancelled/);
  });
});
