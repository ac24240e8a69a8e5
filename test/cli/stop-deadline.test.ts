import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, startCli, type RunningCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { startFreezableLink, type FreezableLink } from '../helpers/frozen-link.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * The last resort of docs/resilience.md "Stopping": whatever the graceful path meets, a command
 * exits within SHUTDOWN_TIMEOUT_MS + 4 s of the first signal (exit 1, "did not stop within"), and
 * at once on a second one (130/143). What hangs the graceful path here is a Redis that stops
 * answering without closing its connections (a frozen host, a half-open link): no outage is seen,
 * so nothing gives up on it. The command reaches the shared Redis through a link the test freezes.
 */
let t: TestPipeline;
const started: RunningCli[] = [];
const links: FreezableLink[] = [];

beforeAll(async () => {
  t = await startTestPipeline({ label: 'stop-deadline', env: { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars' } });
});
afterAll(async () => {
  for (const cli of started) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  for (const link of links) await link.close();
  await t?.close();
});

/** `args` with REDIS_URL through a link of its own, which the test freezes when it likes. */
async function startLinked(
  args: string[],
  env: Record<string, string>,
): Promise<{ cli: RunningCli; link: FreezableLink }> {
  const link = await startFreezableLink();
  links.push(link);
  const cli = startCli(args, cliEnv(t, { LOG_LEVEL: 'info', PORT: '0', REDIS_URL: link.url, ...env }));
  started.push(cli);
  return { cli, link };
}

/** The command's exit, or a failure `ms` after the call: the promise's bound plus room for a slow machine. */
async function exitWithin(
  cli: RunningCli,
  ms: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after the signal:\n${cli.output()}`)), ms);
  });
  try {
    return await Promise.race([cli.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Room beyond a bound for a loaded CI machine to run the timer and end the process. */
const SLACK_MS = 3000;

describe('the shutdown deadline', () => {
  it('import --wait whose read of the batch never returns: exit 1 with "did not stop within" at SHUTDOWN_TIMEOUT_MS + 4 s', async () => {
    // No worker: the batch cannot end, so import --wait follows it until stopped.
    const csv = tempCsv('deadline.csv', csvOf(sampleCustomers(1, 'Deadline')));
    const { cli, link } = await startLinked(['import', '--wait', csv], { SHUTDOWN_TIMEOUT_MS: '1000' });
    await cli.waitFor(/no worker is connected/, 'the import to follow its batch');
    const batchId = /^batch (\S+)/m.exec(cli.output())![1]!;
    link.freeze();
    // Its next read of the batch (the key holds the id) is sent and will never be answered.
    await link.untilSent(batchId);
    cli.child.kill('SIGTERM');
    expect(await exitWithin(cli, 1000 + 4000 + SLACK_MS)).toEqual({ code: 1, signal: null });
    expect(cli.output()).toContain('acronis-onboard import: did not stop within 5000 ms of SIGTERM; exiting now');
  });

  it('start draining against a frozen Redis: a second SIGTERM exits at once, 143', async () => {
    // A drain of a minute: only the second signal can end the process within the test's bound.
    const { cli, link } = await startLinked(['start'], { SHUTDOWN_TIMEOUT_MS: '60000' });
    await cli.waitFor(/listening on http/, 'start to listen');
    link.freeze();
    cli.child.kill('SIGTERM');
    await cli.waitFor(/stopping: no new requests/, 'the first SIGTERM to start the drain');
    cli.child.kill('SIGTERM');
    expect(await exitWithin(cli, SLACK_MS)).toEqual({ code: 143, signal: null });
    expect(cli.output()).toContain('acronis-onboard start: SIGTERM again; exiting now');
    expect(cli.output()).not.toMatch(/workers stopped/);
  });
});
