import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { csvFixture, csvOf, tempCsv } from '../helpers/csv.js';
import { runCli } from '../helpers/cli.js';
import { simulatorApi } from '../helpers/simulator.js';
import { expectEachOnboardedOnce, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/** `acronis-onboard import` as a child process (stdout a pipe, not a TTY), workers running in this process. */

let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'csv-cli' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const customers = (tag: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    name: `${tag} Customer ${i + 1}`,
    email: `it@${tag.toLowerCase()}-${i + 1}.example`,
    external_id: `${tag.toLowerCase()}-${i + 1}`,
  }));

describe('acronis-onboard import', () => {
  it('--wait: plain progress lines without a terminal, a summary, exit 0 when every customer is onboarded', async () => {
    const rows = customers('Wait', 5);
    const run = await runCli(t, ['import', tempCsv('wait.csv', csvOf(rows)), '--wait']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const batchId = /^batch (b-\S+)/m.exec(run.stdout)?.[1];
    expect(batchId).toBeDefined();
    expect(run.stdout).toContain('queued 5  retried 0  already onboarded 0  already queued 0  bad rows 0');
    // No redrawing bar in a log: no escape sequences, no carriage returns, whole lines.
    expect(run.stdout).not.toContain('\u001b');
    expect(run.stdout).not.toContain('\r');
    const progress = run.stdout.split('\n').filter((l) => l.startsWith('progress '));
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(progress.at(-1)).toMatch(/^progress 5\/5 \(100%\) {2}done 5 {2}failed 0 {2}running 0 {2}queued 0$/);
    expect(run.stdout).toMatch(new RegExp(`^${batchId}  csv:wait\\.csv  ended  total 5 .* done 5  failed 0`, 'm'));
    expect(run.stdout.trim().split('\n').at(-1)).toBe('all 5 customers onboarded');
    expectEachOnboardedOnce(t.sim.state(), rows);

    // The same file again: every customer already onboarded, still exit 0.
    const again = await runCli(t, ['import', tempCsv('wait.csv', csvOf(rows)), '--wait']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('queued 0  retried 0  already onboarded 5');
    expect(again.stdout.trim().split('\n').at(-1)).toBe('all 5 customers onboarded');
  });

  it('--wait with a bad row and a customer failing at a step: both in the summary, with reasons; exit 1', async () => {
    const api = simulatorApi(t.sim);
    const other = await api.post('/tenants', {
      name: 'Login Owner',
      parent_id: t.sim.seed.partnerTenantId,
      kind: 'customer',
    });
    expect(
      (
        await api.post('/users', {
          tenant_id: other.body.id,
          login: 'cli.taken',
          contact: { email: 'x@owner.example' },
        })
      ).status,
    ).toBe(200);
    const path = tempCsv(
      'bad.csv',
      'external_id,name,email,login\nbad-1,Bad Good One,it@bad-1.example,\nbad-2,Bad Row,not-an-email,\nbad-3,Bad Taken Login,it@bad-3.example,cli.taken\n',
    );
    const run = await runCli(t, ['import', path, '--wait']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('1 bad row, not imported:');
    expect(run.stderr).toContain('line 3, email: is not an e-mail address');
    expect(run.stdout).toContain('queued 2  retried 0  already onboarded 0  already queued 0  bad rows 1');
    expect(run.stdout).toMatch(
      /failed customers \(1\):\n {2}bad-3 {2}"Bad Taken Login" {2}at create-user: .*login "cli\.taken"/,
    );
    expect(run.stdout).toContain('bad rows (1, not imported): line 3 (reasons above)');
    expect(run.stdout.trim().split('\n').at(-1)).toBe('1 of 3 rows onboarded');
  });

  it('exit 2 and nothing enqueued for a missing column, a binary file, a missing file or a bad profile', async () => {
    const before = await t.pipeline.store.listBatches(1000);
    const missing = await runCli(t, ['import', csvFixture('missing-email-column.csv')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('no "email" column');
    expect(missing.stderr).toContain('nothing was enqueued');

    const binary = await runCli(t, [
      'import',
      tempCsv('binary.csv', Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x06, 0x00])),
    ]);
    expect(binary.code).toBe(2);
    expect(binary.stderr).toContain('Excel workbook');

    const latin1 = await runCli(t, [
      'import',
      tempCsv('latin1.csv', Buffer.from('name,email\nCaf\xe9,it@cafe.example\n', 'latin1')),
    ]);
    expect(latin1.code).toBe(2);
    expect(latin1.stderr).toContain('is not UTF-8 text: line 2');

    const nofile = await runCli(t, ['import', join(csvFixture(''), 'nope.csv')]);
    expect(nofile.code).toBe(2);
    expect(nofile.stderr).toContain('nope.csv: no such file');

    const headerOnly = await runCli(t, ['import', csvFixture('header-only.csv')]);
    expect(headerOnly.code).toBe(2);
    expect(headerOnly.stderr).toContain('no rows');

    const typo = tempCsv('typo-profile.json', JSON.stringify({ ...STANDARD_PROFILE, activaton: 'email' }));
    const badProfile = await runCli(t, [
      'import',
      tempCsv('ok.csv', csvOf(customers('Profile', 1))),
      '--profile',
      typo,
    ]);
    expect(badProfile.code).toBe(2);
    expect(badProfile.stderr).toContain('activaton');
    expect(await t.pipeline.store.listBatches(1000)).toEqual(before);
  });

  it('without --wait: prints the batch id, the counts and how to follow it; --profile travels with the jobs', async () => {
    const rows = customers('Plain', 2);
    const path = tempCsv('plain.csv', csvOf(rows));
    const run = await runCli(t, [
      'import',
      path,
      '--profile',
      join(import.meta.dirname, '../../profiles/per-gigabyte.json'),
    ]);
    expect(run.code).toBe(0);
    const batchId = /^batch (b-\S+) {2}\(plain\.csv: 2 rows, 2 good, 0 bad; profile .*per-gigabyte\.json\)$/m.exec(
      run.stdout,
    )?.[1];
    expect(batchId).toBeDefined();
    expect(run.stdout).toContain(`acronis-onboard status ${batchId}`);
    expect(run.stdout).toContain(`acronis-onboard results ${batchId}`);
    expect(run.stdout).not.toContain('progress');
    expect(await t.waitForBatch(batchId!)).toMatchObject({ done: 2, failed: 0 });
    // The workers were started with the standard profile; the jobs carried the per-gigabyte one.
    expect(await t.pipeline.store.getCustomer('plain-1')).toMatchObject({
      facts: { edition: 'pck_per_gigabyte', activation: 'password-set' },
    });
    const [plain] = expectEachOnboardedOnce(t.sim.state(), rows);
    expect(plain?.tenant.pricing_mode).toBe('production');

    const status = await runCli(t, ['status', batchId!]);
    expect(status.stdout).toMatch(/ended\s+total 2/);
  });
});

/**
 * The activation e-mail is sent at most once: a customer whose send lost its answer ends done
 * with `email-unconfirmed`. `import --wait` and `status BATCH` name those customers, so ops know
 * whom to check.
 */
const HEADING = /^activation e-mail unconfirmed \((\d+)\): the answer to the send was lost/m;

describe('e-mails whose send lost its answer', () => {
  it('import --wait and status list the customers to check; the others are not named', async () => {
    // The API takes the first two sends and drops their answers.
    t.sim.configure({
      faults: [
        {
          kind: 'commit-then-fail',
          methods: ['POST'],
          path: '^/users/\\{user_id\\}/send-activation-email$',
          times: 2,
          drop: true,
        },
      ],
    });
    const rows = [1, 2, 3, 4].map((i) => `mail-${i},Mail Co ${i},admin${i}@mail-co.example,email`);
    const file = tempCsv('unconfirmed.csv', `external_id,name,email,activation\n${rows.join('\n')}\n`);
    const imported = await runCli(t, ['import', file, '--wait']);
    t.sim.configure({ faults: [] });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toMatch(/all 4 customers onboarded/);
    expect(HEADING.exec(imported.stdout)?.[1], imported.stdout).toBe('2');
    const listed = (text: string) =>
      [...text.matchAll(/^ {2}(mail-\d) {2}admin\d@mail-co\.example$/gm)].map((m) => m[1]);
    expect(listed(imported.stdout)).toHaveLength(2);

    const batchId = /^batch (\S+)/m.exec(imported.stdout)?.[1] as string;
    const status = await runCli(t, ['status', batchId]);
    expect(status.code).toBe(0);
    expect(HEADING.exec(status.stdout)?.[1]).toBe('2');
    expect(listed(status.stdout).sort()).toEqual(listed(imported.stdout).sort());
    const json = JSON.parse((await runCli(t, ['status', batchId, '--json'])).stdout) as {
      emailUnconfirmed: { customer: string }[];
    };
    expect(json.emailUnconfirmed.map((c) => c.customer).sort()).toEqual(listed(imported.stdout).sort());
    // The simulator's view: exactly the two listed got their one e-mail with the answer lost.
    const users = t.sim.state().users.filter((u) => u.login.endsWith('@mail-co.example'));
    expect(users.map((u) => u.activation_emails_sent)).toEqual([1, 1, 1, 1]);
  });
});
