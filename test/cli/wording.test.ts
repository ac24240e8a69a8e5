import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resendLine } from '../../src/workers/resend-activation.js';
import { runCli } from '../helpers/cli.js';
import { tempCsv } from '../helpers/csv.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/** A count said in words reads right for one as for many: "1 row", "1 customer onboarded". */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'wording' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const SRC = resolve(import.meta.dirname, '../../src');
/** What the CLI says: its commands, the demo, and the verdicts it shares with the dashboard. */
const SAID_BY_THE_CLI = [
  ...readdirSync(join(SRC, 'cli')).map((f) => join('cli', f)),
  'demo/demo.ts',
  'workers/retry-verdict.ts',
  'workers/resend-activation.ts',
  'producers/csv-import.ts',
];

describe('counts in words', () => {
  it('no count is written as "(s)" or with a plural noun fixed after it', () => {
    for (const file of SAID_BY_THE_CLI) {
      const text = readFileSync(join(SRC, file), 'utf8');
      expect(text, file).not.toMatch(/\$\{[^}]+\}\s[\w ]*\w\(s\)/);
      expect(text, file).not.toMatch(/\$\{[^}]+\} (rows|customers|values|tokens|batches)\b/);
    }
  });

  it('import of one row: "1 row", and --wait ends with "1 customer onboarded"', async () => {
    const file = tempCsv('one-row.csv', 'external_id,name,email\nw-1,Wording One Ltd,it@wording-one.example\n');
    const dry = await runCli(t, ['import', file, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toContain('1 row: 1 good, 0 bad');
    const run = await runCli(t, ['import', file, '--wait']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^batch \S+ {2}\(one-row\.csv: 1 row, 1 good, 0 bad;/m);
    expect(run.stdout).toMatch(/^1 customer onboarded$/m);
    expect(run.stdout).not.toContain('all 1 customers');
  });

  it('a customer with no e-mail to resend is told in words, not by its activation code', () => {
    const line = resendLine({ key: 'w-2', outcome: 'not-eligible', state: 'failed', activation: 'none' });
    expect(line).toBe(
      'w-2: not resent: the customer is failed and its admin was not activated yet (only a done customer activated by e-mail is)',
    );
  });
});
