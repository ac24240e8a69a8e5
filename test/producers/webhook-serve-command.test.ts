import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { newWebhookSecret, postWebhook } from '../helpers/webhook.js';

const BIN = fileURLToPath(new URL('../../bin/acronis-onboard.js', import.meta.url));
// An empty working directory, so no developer's .env leaks into what the command sees.
const cwd = mkdtempSync(join(tmpdir(), 'acronis-onboard-serve-'));
const secret = newWebhookSecret();
let t: TestPipeline;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await startTestPipeline({ label: 'webhook-serve', env: { WEBHOOK_SECRET: secret, PORT: '0' } });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await t?.close();
});

/** `acronis-onboard <command>` in its own process, configured like the test pipeline. */
function spawnCli(command: string, extraEnv: Record<string, string> = {}) {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: cwd };
  for (const [key, value] of Object.entries(t.config)) if (value !== undefined) env[key] = String(value);
  const child = spawn(process.execPath, [BIN, command], {
    cwd,
    env: { ...env, LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  /** The URL the command prints once it listens. */
  const url = new Promise<string>((resolve, reject) => {
    const onData = () => {
      const match = /listening on (http:\/\/\S+)/.exec(text);
      if (match) resolve(match[1]!);
    };
    child.stdout?.on('data', onData);
    void exited.then(([code]) => reject(new Error(`exited ${code} before listening:\n${text}`)));
  });
  url.catch(() => undefined); // a test that expects the exit does not wait for the URL
  return { child, url, exited, output: () => text };
}

describe('acronis-onboard serve and start', () => {
  it('serve: PORT=0 listens on a free port and prints it; a signed request is queued; SIGTERM stops it, exit 0', async () => {
    const serve = spawnCli('serve');
    const url = await serve.url;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(url).not.toMatch(/:0$/);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ redis: 'ok' });

    const answer = await postWebhook(url, secret, sampleCustomers(1, 'Serve')[0], { deliveryId: 'serve-1' });
    expect(answer.status, answer.text).toBe(202);
    expect(await t.pipeline.store.getBatch(answer.body.batch_id)).toMatchObject({
      source: 'webhook',
      label: 'delivery serve-1',
      total: 1,
      queued: 1,
    });

    serve.child.kill('SIGTERM');
    const [code] = await serve.exited;
    expect(code, serve.output()).toBe(0);
    expect(serve.output()).toContain('server stopped');
    expect(serve.output()).not.toContain(secret);
  });

  it('start: the same server plus workers in one process; the customer is onboarded; SIGTERM stops both, exit 0', async () => {
    const start = spawnCli('start');
    const url = await start.url;
    const customers = sampleCustomers(2, 'Start');
    const answer = await postWebhook(url, secret, { customers });
    expect(answer.status, answer.text).toBe(202);
    // The first test's customer was queued with no worker running: this process's workers take it too.
    expect(await t.waitForBatch(answer.body.batch_id)).toMatchObject({ done: 2, failed: 0 });
    expectEachOnboardedOnce(t.sim.state(), customers);

    start.child.kill('SIGTERM');
    const [code] = await start.exited;
    expect(code, start.output()).toBe(0);
    expect(start.output()).toContain('server stopped');
    expect(start.output()).toContain('workers stopped');
  });

  it('serve without WEBHOOK_SECRET stops at once with exit 2, naming it', async () => {
    const serve = spawnCli('serve', { WEBHOOK_SECRET: '' });
    const [code] = await serve.exited;
    expect(code).toBe(2);
    expect(serve.output()).toContain('WEBHOOK_SECRET: is required to serve the webhook');
  });
});
