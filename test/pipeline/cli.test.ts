import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { CLI_CWD, runCli } from '../helpers/cli.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;
const cli = (args: string[], extraEnv: Record<string, string> = {}) => runCli(t, args, extraEnv);

function profileFile(name: string, content: unknown): string {
  const path = join(CLI_CWD, name);
  writeFileSync(path, JSON.stringify(content));
  return path;
}

beforeAll(async () => {
  t = await startTestPipeline({ label: 'pipeline-cli' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('the pipeline commands', () => {
  it('work refuses an invalid profile, naming the file and the field (exit 2)', async () => {
    const typo = await cli(['work'], {
      ONBOARDING_PROFILE: profileFile('typo.json', { ...STANDARD_PROFILE, activaton: 'email' }),
    });
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('typo.json');
    expect(typo.stderr).toContain('activaton');

    const unknownItem = await cli(['work'], {
      ONBOARDING_PROFILE: profileFile('unknown-item.json', {
        ...STANDARD_PROFILE,
        offering_items: { include: ['workstations', 'teleporters'] },
      }),
    });
    expect(unknownItem.code).toBe(2);
    expect(unknownItem.stderr).toContain('offering_items.include');
    expect(unknownItem.stderr).toContain('teleporters');

    const missing = await cli(['work'], { ONBOARDING_PROFILE: join(CLI_CWD, 'nope.json') });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.json');
  });

  it('status, results and retry read the batch the workers completed', async () => {
    const { batch } = await t.enqueue(sampleCustomers(2, 'Cli'));
    await t.waitForBatch(batch.id);

    const list = await cli(['status']);
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(batch.id);

    const one = await cli(['status', batch.id]);
    expect(one.stdout).toMatch(/ended\s+total 2\s+queued 0\s+running 0\s+done 2\s+failed 0/);

    const json = await cli(['results', batch.id, '--format', 'json']);
    expect(json.code).toBe(0);
    const rows = JSON.parse(json.stdout) as {
      customer: string;
      state: string;
      tenant_id: string;
      registration_token: string;
      install_linux: string;
    }[];
    expect(rows.map((r) => [r.customer, r.state])).toEqual([
      ['Cli-1', 'done'],
      ['Cli-2', 'done'],
    ]);
    expect(rows[0]!.registration_token).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(rows[0]!.install_linux).toContain(`--rain=${t.sim.url}`);

    const csv = await cli(['results', batch.id]);
    expect(csv.stdout.split('\n')[0]).toBe(
      'customer,name,submitted,state,step,failed_step,error,tenant_id,user_id,login,activation,password,registration_token,token_expires_at,install_windows,install_linux,unreadable',
    );
    expect(csv.stdout.trim().split('\n')).toHaveLength(3);

    const retry = await cli(['retry', batch.id]);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toContain('no failed customers');

    expect((await cli(['status', 'b-nope'])).code).toBe(2);
    expect((await cli(['retry', 'nobody'])).code).toBe(2);
  });
});
