import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { tempCsv } from '../helpers/csv.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * The activation e-mail is sent at most once: a customer whose send lost its answer ends done
 * with `email-unconfirmed`. `import --wait` and `status BATCH` name those customers, so ops know
 * whom to check, instead of leaving it to a column of the results.
 */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'unconfirmed-emails' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

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
