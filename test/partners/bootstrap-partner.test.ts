import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { connectRedis, removeKeys, TEST_REDIS_URL, uniquePrefix } from '../helpers/redis.js';
import { startTestSimulator, type RunningSimulator } from '../helpers/simulator.js';

/**
 * `bootstrap --partner` (docs/commands.md "Several partners"): an install of one partner grows
 * to two — the partners file made with the present partner as `default`, the new client's
 * variables in `.env` — and `check` then proves both; a duplicate name or tenant is refused
 * naming both, before any API client is created.
 */
let sims: RunningSimulator[];
const prefix = uniquePrefix('bootstrap-partner');
const redis = connectRedis();
const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-partners-'));

beforeAll(async () => {
  sims = [await startTestSimulator(), await startTestSimulator()];
});
afterAll(async () => {
  await removeKeys(redis, prefix);
  redis.disconnect();
  await Promise.all(sims.map((s) => s.close()));
});

function cli(args: string[], stdin = '', env: Record<string, string> = {}) {
  return spawnCli(dir, args, { PATH: process.env.PATH ?? '', HOME: dir, LOG_LEVEL: 'warn', ...env }, stdin);
}
const bootstrap = (sim: RunningSimulator, extra: string[] = []) =>
  cli(['bootstrap', '--base-url', sim.url, '--login', sim.seed.adminLogin, ...extra], `${sim.seed.adminPassword}\n`);
const clientsAt = (sim: RunningSimulator) => sim.state().clients.length;

describe('bootstrap --partner', () => {
  it('adds a second partner to an install of one: the file made with the first as default, check proves both', async () => {
    const [dc1, dc2] = sims as [RunningSimulator, RunningSimulator];
    expect((await bootstrap(dc1)).code).toBe(0);
    const run = await bootstrap(dc2, ['--partner', 'us-east']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('the partner of ACRONIS_BASE_URL is partner "default"');
    expect(run.stdout).toContain('added partner "us-east"');

    const file = join(dir, 'partners.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const partners = JSON.parse(readFileSync(file, 'utf8')) as { default: string; partners: Record<string, string>[] };
    expect(partners.default).toBe('default');
    expect(partners.partners).toEqual([
      {
        name: 'default',
        base_url: dc1.url,
        client_id_env: 'ACRONIS_CLIENT_ID',
        client_secret_env: 'ACRONIS_CLIENT_SECRET',
        parent_tenant_id: dc1.seed.partnerTenantId,
      },
      {
        name: 'us-east',
        base_url: dc2.url,
        client_id_env: 'US_EAST_ACRONIS_CLIENT_ID',
        client_secret_env: 'US_EAST_ACRONIS_CLIENT_SECRET',
        parent_tenant_id: dc2.seed.partnerTenantId,
      },
    ]);
    const env = parseDotenv(readFileSync(join(dir, '.env'), 'utf8'));
    expect(env.PARTNERS_FILE).toBe('partners.json');
    expect(env.ACRONIS_BASE_URL).toBeUndefined();
    expect(dc2.state().clients.map((c) => c.client_id)).toContain(env.US_EAST_ACRONIS_CLIENT_ID);
    expect(readFileSync(join(dir, '.env'), 'utf8')).not.toContain(dc2.seed.adminPassword);

    const check = await cli(['check'], '', { REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix });
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain(`Partner default  ok (${dc1.url})`);
    expect(check.stdout).toContain(`Partner us-east  ok (${dc2.url})`);
    expect(check.stdout).not.toContain('Warning');
  });

  it('refuses a name in the file already and a tenant another partner serves, naming both; no client made', async () => {
    const dc2 = sims[1] as RunningSimulator;
    const before = clientsAt(dc2);
    const again = await bootstrap(dc2, ['--partner', 'us-east']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/partner "us-east" is partners\[1\] of \S+partners\.json already/);
    const twin = await bootstrap(dc2, ['--partner', 'us-other']);
    expect(twin.code).toBe(2);
    expect(twin.stderr).toContain(
      `partners "us-east" and "us-other" would reach the same partner tenant ${dc2.seed.partnerTenantId}`,
    );
    expect(clientsAt(dc2)).toBe(before);
  });
});
