import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { postWebhook, startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * What reaches an operator's terminal: a file name, a label or a name from outside is printed
 * with its control and bidi characters escaped, never as bytes the terminal would act on.
 */
let h: WebhookHarness;

beforeAll(async () => {
  h = await startWebhookHarness({ label: 'terminal-output' });
});
afterAll(async () => {
  await h?.close();
});

/** ESC, BEL, C1 and the bidi controls: none may reach the terminal raw. */
// eslint-disable-next-line no-control-regex -- control characters are what this test looks for
const RAW = /[\u0007\u001b\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('terminal output', () => {
  it('a CSV file named with ESC[2J, an OSC title and a bidi override: import and status print it escaped', async () => {
    const name = 'clear\u001b[2J\u001b]0;owned\u0007-\u202eevil.csv';
    const file = tempCsv(name, csvOf(sampleCustomers(2, 'TtyFile')));
    const imported = await runCli(h.t, ['import', file]);
    expect(imported.code, imported.stderr).toBe(0);
    for (const out of [imported.stdout, imported.stderr]) expect(out).not.toMatch(RAW);
    expect(imported.stdout).toContain('clear\\x1b[2J\\x1b]0;owned\\x07-\\u202eevil.csv');
    const batchId = /batch (b-\S+)/.exec(imported.stdout)![1]!;

    const status = await runCli(h.t, ['status']);
    expect(status.stdout).toContain(`${batchId}  csv:clear\\x1b[2J`);
    const one = await runCli(h.t, ['status', batchId, '--json']);
    expect(one.stdout).not.toMatch(RAW);
    expect(JSON.parse(one.stdout).batch.label).toBe(name);

    const missing = await runCli(h.t, ['import', `${file}.missing`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).not.toMatch(RAW);
    expect(missing.stderr).toContain('\\x1b[2J');
  });

  it('retry and results name an unknown batch or customer escaped', async () => {
    for (const args of [
      ['retry', 'x\u001b[31mred'],
      ['results', 'x\u009b31m', '--format', 'json'],
    ]) {
      const run = await runCli(h.t, args);
      expect(run.code).toBe(2);
      expect(run.stdout + run.stderr).not.toMatch(RAW);
    }
  });

  it('a webhook password with ESC or BEL is refused, naming the field', async () => {
    const [customer] = sampleCustomers(1, 'TtyPw', { activation: 'password' });
    const answer = await postWebhook(h.url, h.secret, { ...customer, password: 'Str0ng-Pw\u001b]0;x\u0007' });
    expect(answer.status, answer.text).toBe(400);
    expect(answer.body.problems).toEqual([{ field: 'password', reason: 'must not hold control characters' }]);
  });
});
