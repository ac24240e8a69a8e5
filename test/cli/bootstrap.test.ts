import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { connectRedis, removeKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startTestSimulator, type RunningSimulator } from '../helpers/simulator.js';

/** `acronis-onboard bootstrap` against the simulator, as a person would run it in a fresh directory. */
let sim: RunningSimulator;
const prefix = uniquePrefix('bootstrap');
const redis = connectRedis();

beforeAll(async () => {
  sim = await startTestSimulator();
});
afterAll(async () => {
  await removeKeys(redis, prefix);
  redis.disconnect();
  await sim?.close();
});

/** The real command in `cwd`, with `stdin` written to it and only PATH, HOME and `env` set. */
function cli(cwd: string, args: string[], stdin = '', env: Record<string, string> = {}) {
  return spawnCli(cwd, args, { PATH: process.env.PATH ?? '', HOME: cwd, LOG_LEVEL: 'warn', ...env }, stdin);
}

const bootstrapArgs = () => ['bootstrap', '--base-url', sim.url, '--login', sim.seed.adminLogin];

describe('bootstrap', () => {
  it('writes a .env (mode 0600, no password) with which the next command just works', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-bootstrap-'));
    const run = await cli(dir, bootstrapArgs(), `${sim.seed.adminPassword}\n`);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('wrote .env (mode 0600)');

    const path = join(dir, '.env');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const text = readFileSync(path, 'utf8');
    expect(text).not.toContain(sim.seed.adminPassword);
    const env = parseDotenv(text);
    expect(env).toMatchObject({ ACRONIS_BASE_URL: sim.url, ACRONIS_PARENT_TENANT_ID: sim.seed.partnerTenantId });
    expect(Buffer.from(env.SECRETS_KEY ?? '', 'base64')).toHaveLength(32);
    expect(env.WEBHOOK_SECRET).not.toBe(env.CALLBACK_SECRET);
    // The API client exists at the data centre.
    expect(sim.state().clients.map((c) => c.client_id)).toContain(env.ACRONIS_CLIENT_ID);

    // Only the Redis prefix comes from outside; everything else from the .env.
    writeFileSync(join(dir, 'one.csv'), 'name,email,external_id\nBoot Ltd,it@boot.example,boot-1\n');
    const imported = await cli(dir, ['import', 'one.csv'], '', { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix });
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('queued 1');
  });

  it('refuses to overwrite a .env without --force, and keeps its SECRETS_KEY with it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-bootstrap-'));
    writeFileSync(join(dir, '.env'), 'SECRETS_KEY=keep-me\nREDIS_URL=redis://10.0.0.9:6379\n');
    const refused = await cli(dir, bootstrapArgs(), `${sim.seed.adminPassword}\n`);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--force');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe('SECRETS_KEY=keep-me\nREDIS_URL=redis://10.0.0.9:6379\n');

    const forced = await cli(dir, [...bootstrapArgs(), '--force'], `${sim.seed.adminPassword}\n`);
    expect(forced.code, forced.stderr).toBe(0);
    const env = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    expect(env).toMatchObject({
      SECRETS_KEY: 'keep-me',
      REDIS_URL: 'redis://10.0.0.9:6379',
      ACRONIS_BASE_URL: sim.url,
    });
  });

  it('a wrong password: one line naming the login and the data centre, exit 2, no file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-bootstrap-'));
    const run = await cli(dir, bootstrapArgs(), 'not-the-password\n');
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toContain(sim.seed.adminLogin);
    expect(run.stderr).toContain(sim.url);
    expect(() => statSync(join(dir, '.env'))).toThrow();
  });
});
