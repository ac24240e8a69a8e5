import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { simulatorSettings, startTestConnectWise } from '../helpers/connectwise.js';
import { startHubSpotSimulator, type HubSpotSimulator } from '../../src/simulator/hubspot/index.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * `acronis-onboard sources` checks every source file on its own and reaches its API with the
 * kind's checkApi: one line per source, ok or what is wrong naming the file and setting; exit 2
 * when any is wrong; `--format json` the same as a list.
 */
let t: TestPipeline;
let cw: Awaited<ReturnType<typeof startTestConnectWise>>;
let hubspot: HubSpotSimulator;
const HUBSPOT_TOKEN = `pat-na1-${randomBytes(12).toString('hex')}`;
const tag = randomUUID().slice(0, 8).toUpperCase();
const SECRET_ENV = `I20S_SHOP_${tag}`;
const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function sourcesDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'i20-sources-cli-'));
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

const shop = { kind: 'generic', settings: { auth: { scheme: 'standard-webhooks', secret_env: SECRET_ENV } } };

beforeAll(async () => {
  t = await startTestPipeline({ label: 'sources-cli' });
  cw = await startTestConnectWise();
  hubspot = await startHubSpotSimulator({ clientSecret: randomBytes(16).toString('hex'), accessToken: HUBSPOT_TOKEN });
});
afterAll(async () => {
  await hubspot?.close();
  await cw?.close();
  await t?.close();
});

describe('acronis-onboard sources', () => {
  it('says ok for each good source, exit 0', async () => {
    const dir = sourcesDir({ 'shop.json': shop, 'shop-two.json': shop });
    const run = await runCli(t, ['sources'], { SOURCES_DIR: dir, [SECRET_ENV]: SECRET });
    expect(run.code, run.stderr).toBe(0);
    const lines = run.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^shop\s+generic\s+ok/);
    expect(lines[1]).toMatch(/^shop-two\s+generic\s+ok/);
    expect(run.stdout + run.stderr).not.toContain(SECRET.slice(6));
  });

  it('names what is wrong with each bad source, and exits 2 while the good one is still ok', async () => {
    const dir = sourcesDir({
      'shop.json': shop,
      'broken.json': '{ "kind": "generic", ',
      'misspelt.json': { ...shop, trigerr: {} },
      'unset.json': { kind: 'generic', settings: { auth: { scheme: 'bearer', token_env: `I20S_UNSET_${tag}` } } },
      'weak.json': {
        kind: 'generic',
        settings: { auth: { scheme: 'standard-webhooks', secret_env: `I20S_WEAK_${tag}` } },
      },
    });
    const env = { SOURCES_DIR: dir, [SECRET_ENV]: SECRET, [`I20S_WEAK_${tag}`]: 'not-a-whsec-secret' };
    const run = await runCli(t, ['sources'], env);
    expect(run.code).toBe(2);
    const line = (name: string) => run.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
    expect(line('shop')).toMatch(/generic\s+ok/);
    expect(line('broken')).toMatch(/error: source file .*broken\.json: \(file\): is not valid JSON/);
    expect(line('misspelt')).toMatch(/error: source file .*misspelt\.json: trigerr: is not a source setting/);
    expect(line('unset')).toContain(`settings: names the environment variable I20S_UNSET_${tag}, which is not set`);
    expect(line('weak')).toContain(`I20S_WEAK_${tag} must be a Standard Webhooks secret`);
    expect(run.stdout).not.toContain('not-a-whsec-secret');

    const json = await runCli(t, ['sources', '--format', 'json'], env);
    expect(json.code).toBe(2);
    const verdicts = JSON.parse(json.stdout) as { source: string; ok: boolean; detail: string }[];
    expect(verdicts.map((v) => [v.source, v.ok])).toEqual([
      ['broken', false],
      ['misspelt', false],
      ['shop', true],
      ['unset', false],
      ['weak', false],
    ]);
  });

  it("reaches the simulated ConnectWise with the source's credentials, and names a refusal", async () => {
    const settings = simulatorSettings(cw);
    const dir = sourcesDir({ 'psa.json': { kind: 'connectwise', settings } });
    const c = cw.credentials;
    const env = {
      SOURCES_DIR: dir,
      CW_COMPANY_ID: c.companyId,
      CW_PUBLIC_KEY: c.publicKey,
      CW_PRIVATE_KEY: c.privateKey,
      CW_CLIENT_ID: c.clientId,
    };
    const ok = await runCli(t, ['sources'], env);
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^psa\s+connectwise\s+ok/);

    const wrongKey = `wrong-${randomUUID()}`;
    const refused = await runCli(t, ['sources', '--format', 'json'], { ...env, CW_PRIVATE_KEY: wrongKey });
    expect(refused.code).toBe(2);
    const [verdict] = JSON.parse(refused.stdout) as { source: string; ok: boolean; detail: string }[];
    expect(verdict).toMatchObject({ source: 'psa', ok: false });
    expect(verdict!.detail).toMatch(/^psa: .*401/);
    expect(refused.stdout).not.toContain(wrongKey);
    expect(refused.stdout).not.toContain(c.privateKey);
  });

  it("reaches the simulated HubSpot with the source's token, and names a refusal", async () => {
    const settings = {
      client_secret_env: `I20S_HS_SECRET_${tag}`,
      access_token_env: `I20S_HS_TOKEN_${tag}`,
      api_base_url: hubspot.url,
    };
    const dir = sourcesDir({ 'crm.json': { kind: 'hubspot', settings } });
    const env = { SOURCES_DIR: dir, [`I20S_HS_SECRET_${tag}`]: randomBytes(16).toString('hex') };
    const ok = await runCli(t, ['sources'], { ...env, [`I20S_HS_TOKEN_${tag}`]: HUBSPOT_TOKEN });
    expect(ok.code, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout.trim()).toMatch(/^crm\s+hubspot\s+ok/);
    const wrongToken = `pat-na1-${randomBytes(12).toString('hex')}`;
    const refused = await runCli(t, ['sources'], { ...env, [`I20S_HS_TOKEN_${tag}`]: wrongToken });
    expect(refused.code).toBe(2);
    expect(refused.stdout).toMatch(/^crm\s+hubspot\s+error: crm: .*401/);
    expect(refused.stdout).not.toContain(wrongToken);
  });

  it('without SOURCES_DIR says so, naming it, exit 2', async () => {
    const run = await runCli(t, ['sources']);
    expect(run.code).toBe(2);
    expect(run.stderr.trim()).toBe('SOURCES_DIR is not set: no source is configured (docs/sources.md)');
  });
});
