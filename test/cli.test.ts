import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import type { RunningSimulator } from '../src/simulator/index.js';
import { connectRedis, removeKeys, uniquePrefix } from './helpers/redis.js';
import { startTestSimulator } from './helpers/simulator.js';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../bin/acronis-onboard.js');
// An empty working directory, so no developer's .env leaks into what the command sees.
const cwd = mkdtempSync(join(tmpdir(), 'acronis-onboard-cli-'));

async function cli(args: string[], env: Record<string, string>) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH ?? '', HOME: cwd, ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('acronis-onboard CLI configuration', () => {
  let sim: RunningSimulator;
  let redis: Redis;
  const prefix = uniquePrefix('cli');
  let good: Record<string, string>;

  beforeAll(async () => {
    sim = await startTestSimulator();
    redis = connectRedis();
    good = {
      ACRONIS_BASE_URL: sim.url,
      ACRONIS_CLIENT_ID: sim.seed.clientId,
      ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
      SECRETS_KEY: generateSecretsKey(),
      QUEUE_PREFIX: prefix,
    };
  });
  afterAll(async () => {
    await removeKeys(redis, prefix);
    redis.disconnect();
    await sim.close();
  });

  it('a malformed variable stops the command with exit 2 and names the variable', async () => {
    const result = await cli(['check'], { ...good, ACRONIS_RATE_LIMIT: 'abc', SECRETS_KEY: 'short' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ACRONIS_RATE_LIMIT');
    expect(result.stderr).toContain('SECRETS_KEY');
    expect(result.stderr).not.toContain(sim.seed.clientSecret);
  });

  it('a missing required variable stops the command with exit 2 and names it', async () => {
    const { ACRONIS_CLIENT_ID: _omitted, ...rest } = good;
    const result = await cli(['check'], rest);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/ACRONIS_CLIENT_ID: is required/);
  });

  it('check passes against the simulator and names the partner tenant', async () => {
    const result = await cli(['check'], good);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(sim.seed.partnerTenantId);
    expect(result.stdout).toContain(sim.seed.partnerName);
    expect(result.stdout).not.toContain(sim.seed.clientSecret);
  });

  it('check explains a Redis that does not answer in one line naming REDIS_URL (exit 2: the configuration)', async () => {
    const result = await cli(['check'], { ...good, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Redis does not answer');
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringContaining('REDIS_URL')]);
  });
});
