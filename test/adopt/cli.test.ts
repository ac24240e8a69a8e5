import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CWD, runCli } from '../helpers/cli.js';
import { calls } from '../helpers/lifecycle.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { childNamed } from './helpers.js';

/** `acronis-onboard adopt` as an operator runs it: dry run, bad rows, --wait, status and results, exit codes. */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'adopt-cli', sim: { customers: 4 } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

function csv(name: string, text: string): string {
  const file = join(CLI_CWD, name);
  writeFileSync(file, text);
  return file;
}

describe('acronis-onboard adopt', { timeout: 180_000 }, () => {
  it('--dry-run says what would be adopted and refused, and writes nothing (exit 1 with a refusal)', async () => {
    const file = csv('adopt-dry.csv', 'tenant,external_id\nExisting Customer 1,crm-1\nNobody Here,crm-2\n');
    t.sim.resetStats();
    const run = await runCli(t, ['adopt', file, '--dry-run']);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toMatch(/line 2: would adopt "Existing Customer 1" \(tenant \S+\) as crm-1/);
    expect(run.stderr).toContain(
      'line 3: tenant "Nobody Here": tenant: no tenant of the partner is named "Nobody Here"',
    );
    expect(run.stdout).toMatch(/dry run: 1 tenant would be adopted, 1 refused, 0 adopted already .*nothing written/);
    expect(calls(t, 'PUT /tenants/{tenant_id}')).toBe(0);
    expect(childNamed(t, 'Existing Customer 1').customer_id).toBeNull();
  });

  it('adopts with --wait; status and results show the customers (exit 0), and again it is a no-op', async () => {
    const file = csv('adopt.csv', 'Tenant,External ID\nExisting Customer 1,crm-1\nExisting Customer 2,crm-2\n');
    const run = await runCli(t, ['adopt', file, '--wait']);
    expect(run.code, run.stderr).toBe(0);
    const batchId = /batch (b-\S+): 2 adoptions queued, 0 refused/.exec(run.stdout)?.[1] as string;
    expect(run.stdout).toContain(`batch ${batchId}: 2 adopted, 0 failed`);
    const status = await runCli(t, ['status', batchId]);
    expect(status.stdout).toMatch(/adopt:\S+adopt\.csv +ended +total 2 .*done 2/);
    const results = await runCli(t, ['results', batchId]);
    expect(results.stdout).toContain(
      `crm-1,Existing Customer 1,queued,done,finish,,,${childNamed(t, 'Existing Customer 1').id}`,
    );
    const again = await runCli(t, ['adopt', file]);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(
      /line 2: nothing to do for tenant "Existing Customer 1" \(crm-1\): adopted or onboarded already/,
    );
    expect(again.stdout).toContain('nothing queued: 0 rows refused, 2 adopted already');
  });

  it('refuses a missing --external-id and an unreadable CSV header (exit 2)', async () => {
    const noId = await runCli(t, ['adopt', '--tenant', 'Existing Customer 3']);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toContain('--external-id is required');
    const bad = await runCli(t, ['adopt', csv('adopt-bad.csv', 'company,crm\nA,1\n')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('the header has no tenant_id, tenant or name column');
    const missing = await runCli(t, ['adopt', join(CLI_CWD, 'no-such-file.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no-such-file\.csv: cannot be read \(ENOENT/);
    const open = await runCli(t, ['adopt', csv('adopt-open.csv', 'tenant,external_id\n"Acme,crm-1\n')]);
    expect(open.code).toBe(2);
    expect(open.stderr).toContain('is never closed');
  });
});
