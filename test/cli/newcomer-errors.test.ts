import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, CLI_CWD, runCli } from '../helpers/cli.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/** The failures a newcomer meets first: one line naming what to change, the right exit code, no stack trace. */
let t: TestPipeline;
let blocker: Server;
let busyPort: number;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'newcomer-errors', env: { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars' } });
  blocker = createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  busyPort = (blocker.address() as { port: number }).port;
});
afterAll(async () => {
  blocker?.close();
  await t?.close();
});

const noStack = (text: string) => expect(text).not.toMatch(/\n\s+at \S+/);

describe('errors a newcomer meets', () => {
  it('a port in use: one line naming PORT, exit 2', async () => {
    const run = await runCli(t, ['serve'], { PORT: String(busyPort) });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`PORT ${busyPort} on 127.0.0.1 is in use`);
    noStack(run.stderr);
  });

  it('wrong API client credentials: one line naming both variables and the data centre, exit 2', async () => {
    // The same install as the other tests: a token they cached is kept for the right secret only.
    const run = await runCli(t, ['check'], {
      ACRONIS_CLIENT_SECRET: 'not-the-secret',
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ACRONIS_CLIENT_ID and ACRONIS_CLIENT_SECRET');
    expect(run.stderr).toContain(t.sim.url);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    noStack(run.stderr);
  });

  it('stdout closed early (`… | head -1`): a quiet exit, no EPIPE trace', async () => {
    const rows = Array.from({ length: 3000 }, (_, i) => `pipe-${i},Pipe Customer ${i},it${i}@pipe.example`);
    const file = join(CLI_CWD, 'pipe.csv');
    writeFileSync(file, `external_id,name,email\n${rows.join('\n')}\n`);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: CLI_CWD, LOG_LEVEL: 'warn' };
    for (const [key, value] of Object.entries(t.config)) if (value !== undefined) env[key] = String(value);
    const child = spawn(process.execPath, [BIN, 'import', '--dry-run', file], { cwd: CLI_CWD, env });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Read the first chunk, then go away like `head -1` does.
    await once(child.stdout, 'data');
    child.stdout.destroy();
    const [code] = (await once(child, 'close')) as [number | null];
    expect(stderr).not.toContain('EPIPE');
    noStack(stderr);
    expect(code).toBe(0);
  });
});
