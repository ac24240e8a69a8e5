import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, spawnCli, startCli, type RunningCli } from '../helpers/cli.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { dumpKeys } from '../helpers/redis.js';

/**
 * `check` proves what is configured, and a refused or unreachable setting is one line that names
 * it (exit 2): a token cached for other credentials vouches for nothing, no log line or stack
 * comes before the message, and a missing setting says where the command looked for `.env`.
 */
let t: TestPipeline;
let blocker: Server;
let busyPort: number;
const started: RunningCli[] = [];

beforeAll(async () => {
  t = await startTestPipeline({ label: 'checks', env: { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars' } });
  blocker = createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  busyPort = (blocker.address() as { port: number }).port;
  // A token of the right credentials is cached in the install, as after any work done.
  await t.pipeline.acronis.tokens.get();
});
afterAll(async () => {
  for (const cli of started) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  blocker?.close();
  await t?.close();
});

const WRONG_SECRET = 'not-the-secret-of-this-client';
const noLogLines = (text: string) => expect(text).not.toMatch(/"level"|\n\s+at \S+/);

/** The command's one line on stderr, nothing on stdout. */
function oneLine(run: { stdout: string; stderr: string }): string {
  noLogLines(run.stdout + run.stderr);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trim().split('\n');
  expect(lines, run.stderr).toHaveLength(1);
  return lines[0] ?? '';
}

describe('check proves the configured credentials', () => {
  it('asks the data centre for a token with them, even with a token cached', async () => {
    const before = t.sim.stats().tokenIssues;
    const run = await runCli(t, ['check']);
    expect(run.code, run.stderr).toBe(0);
    expect(t.sim.stats().tokenIssues).toBe(before + 1);
  });

  it('a wrong secret is refused although a token of the right one is cached: one line, exit 2', async () => {
    const run = await runCli(t, ['check'], { ACRONIS_CLIENT_SECRET: WRONG_SECRET });
    expect(run.code).toBe(2);
    const line = oneLine(run);
    expect(line).toContain('ACRONIS_CLIENT_ID and ACRONIS_CLIENT_SECRET');
    expect(line).toContain(t.sim.url);
  });

  it('a wrong client id: one line naming it, no log line before it, exit 2', async () => {
    const run = await runCli(t, ['check'], { ACRONIS_CLIENT_ID: '00000000-0000-4000-8000-000000000000' });
    expect(run.code).toBe(2);
    expect(oneLine(run)).toContain('ACRONIS_CLIENT_ID');
  });

  it('ACRONIS_BASE_URL on a closed port: one line naming it, exit 2', async () => {
    const closed = createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const run = await runCli(t, ['check'], { ACRONIS_BASE_URL: `http://127.0.0.1:${port}` });
    expect(run.code).toBe(2);
    const line = oneLine(run);
    expect(line).toContain(`ACRONIS_BASE_URL http://127.0.0.1:${port}`);
    expect(line).toContain('connection refused');
  });

  it('the token cache is kept per secret, and no key names the secret', async () => {
    const keys = await dumpKeys(t.redis, t.prefix);
    const tokenKeys = keys.split('\n').filter((k) => /:acronis:token:[0-9a-f]+$/.test(k));
    // The right secret's token, and none stored for the wrong one (it was refused).
    expect(tokenKeys).toHaveLength(1);
    expect(t.pipeline.keys.tokenCache(t.sim.url, t.sim.seed.clientId, WRONG_SECRET).token).not.toBe(tokenKeys[0]);
    expect(keys).not.toContain(WRONG_SECRET);
    expect(keys).not.toContain(t.sim.seed.clientSecret);
  });
});

describe('work with refused credentials', () => {
  it('says so at start although a token of the right ones is cached: one line, exit 2', async () => {
    const cli = startCli(['work'], cliEnv(t, { ACRONIS_CLIENT_SECRET: WRONG_SECRET, LOG_LEVEL: 'info' }));
    started.push(cli);
    // Either it stops, as it must, or it starts on the other credentials' token.
    await Promise.race([cli.exited, cli.waitFor(/workers started/, 'the workers to start').catch(() => undefined)]);
    if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
    const { code } = await cli.exited;
    expect(cli.output()).not.toContain('workers started');
    expect(code).toBe(2);
    expect(cli.output()).toContain('ACRONIS_CLIENT_ID and ACRONIS_CLIENT_SECRET');
    expect(cli.output()).not.toMatch(/\n\s+at \S+/);
  });
});

describe('settings named as they were given', () => {
  it('sim --port on a taken port names --port and its value', async () => {
    const run = await runCli(t, ['sim', '--port', String(busyPort)]);
    expect(run.code).toBe(2);
    const line = oneLine(run);
    expect(line).toContain(`--port ${busyPort} on 127.0.0.1 is in use`);
    expect(line).not.toContain('PORT 3000');
  });

  it('serve --port on a taken port names --port, PORT in the environment is not what it used', async () => {
    const run = await runCli(t, ['serve', '--port', String(busyPort)], { PORT: '0' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--port ${busyPort} on 127.0.0.1 is in use`);
    noLogLines(run.stderr);
  });

  it('without a .env: the missing variables, where it looked, and bootstrap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-no-env-'));
    const env = { PATH: process.env.PATH ?? '', HOME: dir, REDIS_URL: t.config.REDIS_URL, QUEUE_PREFIX: t.prefix };
    const run = await spawnCli(dir, ['check'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ACRONIS_CLIENT_SECRET: is required');
    expect(run.stderr).toContain(`no ${join(dir, '.env')}`);
    expect(run.stderr).toContain('acronis-onboard bootstrap');
  });
});
