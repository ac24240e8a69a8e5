import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { tempCsv } from '../helpers/csv.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * `work` and `serve` start before the data centre answers (a compose start, `restart:
 * unless-stopped`): they ask again with backoff instead of exiting; refused credentials still
 * stop them with one line and exit 2. `import` asks again for a bounded time (a person waits).
 */
let t: TestPipeline;
const started: RunningCli[] = [];

beforeAll(async () => {
  t = await startTestPipeline({ label: 'api-at-start', env: { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars' } });
});
afterAll(async () => {
  for (const cli of started) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  await t?.close();
});

const RETRYING = /the Acronis API at \S+ failed \([^)]*\); trying again until it answers/g;

async function startsAfterFailures(args: string[], ready: RegExp): Promise<void> {
  // The partner lookup (GET /clients/{id}) answers 503 twice, as a data centre that is still starting.
  t.sim.configure({ faults: [{ kind: '5xx', status: 503, path: '^/clients/', times: 2 }] });
  const cli = startCli(args, cliEnv(t, { LOG_LEVEL: 'info', PORT: '0' }));
  started.push(cli);
  await cli.waitFor(ready, `${args[0]} to start`);
  cli.child.kill('SIGTERM');
  expect(await cli.exited).toEqual({ code: 0, signal: null });
  const text = cli.output();
  expect(text.match(RETRYING), text).toHaveLength(1);
  expect(text).toMatch(/the Acronis API at \S+: answered after [\d.]+ s/);
}

describe('the API is not up yet when a command starts', () => {
  it('work asks again until it answers, with one warning, then runs', async () => {
    await startsAfterFailures(['work'], /workers started/);
  });

  it('serve too', async () => {
    await startsAfterFailures(['serve'], /listening on http/);
  });

  it('import asks again for a blip of the API before it enqueues: one warning, then the batch', async () => {
    t.sim.configure({ faults: [{ kind: '5xx', status: 503, path: '^/clients/', times: 2 }] });
    const file = tempCsv('api-blip.csv', 'external_id,name,email\nblip-1,Blip Ltd,it@blip.example\n');
    const run = await runCli(t, ['import', file], { LOG_LEVEL: 'info' });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/the Acronis API at \S+ failed \([^)]*503[^)]*\); trying again for up to 30 s/);
    expect(run.stdout).toMatch(/^batch \S+/m);
    expect(run.stdout).toMatch(/^queued 1 /m);
  });

  it('refused credentials still stop work: one line naming the variables, exit 2', async () => {
    const run = await runCli(t, ['work'], {
      ACRONIS_CLIENT_SECRET: 'not-the-secret',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ACRONIS_CLIENT_ID and ACRONIS_CLIENT_SECRET');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stdout).not.toMatch(RETRYING);
  });
});
