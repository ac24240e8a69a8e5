import { readFile, writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';

/**
 * `check` with a partners file checks each partner on its own (docs/partners.md): one with a
 * wrong secret is named with the variables to fix while the other is shown to work; a partners
 * file that cannot be used is one line naming the field (exit 2), for every command alike.
 */
let t: TwoPartnerInstall;

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'check-partners' });
});
afterAll(async () => {
  await t?.close();
});

const noStack = (text: string) => expect(text).not.toMatch(/"level"|\n\s+at \S+/);

describe('check with a partners file', () => {
  it('says each partner works: a new token, its tenant, its profile against its offer', async () => {
    const run = await runCli(t, ['check'], t.secretEnv);
    expect(run.code, run.stderr).toBe(0);
    for (const [i, sim] of t.sims.entries()) {
      expect(run.stdout).toContain(`Partner dc${i + 1}      ok (${sim.url})`);
      expect(run.stdout).toContain(`(partner, ${sim.seed.partnerTenantId})`);
    }
    expect(run.stdout.match(/profile {8}built-in standard: its offer has every item it enables/g)).toHaveLength(2);
    expect(run.stdout).not.toContain('Warning');
  });

  it('names the partner whose secret is wrong and the variables to check, and still shows the other working', async () => {
    const run = await runCli(t, ['check'], { ...t.secretEnv, DC2_CLIENT_SECRET: 'not-the-secret-of-dc2' });
    expect(run.code).toBe(2);
    noStack(run.stdout + run.stderr);
    expect(run.stdout).toContain(`Partner dc1      ok (${t.sims[0].url})`);
    expect(run.stdout).toMatch(
      /Partner dc2 {6}refused: \S+ refused its API client \(401[^)]*\): check DC2_CLIENT_ID and DC2_CLIENT_SECRET/,
    );
    expect(run.stdout).toContain('1 of 2 partners cannot receive customers: dc2');
    expect(run.stdout).not.toContain('not-the-secret-of-dc2');
  });

  it('a command needing a refused partner says so in one line pointing at check (exit 2)', async () => {
    const run = await runCli(t, ['suspend', 'West-1', '--partner', 'dc2'], {
      ...t.secretEnv,
      DC2_CLIENT_SECRET: 'not-the-secret-of-dc2',
    });
    expect(run.code).toBe(2);
    noStack(run.stdout + run.stderr);
    expect(run.stderr.trim()).toMatch(
      /^acronis-onboard: a data centre refused a partner's API client \(401[^)]*\): acronis-onboard check names the partner and the variables to check$/,
    );
  });

  it('warns that ACRONIS_* variables set beside PARTNERS_FILE are not used', async () => {
    const run = await runCli(t, ['check'], {
      ...t.secretEnv,
      ACRONIS_CLIENT_ID: 'left-over',
      ACRONIS_BASE_URL: 'https://eu2-cloud.acronis.com',
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(
      'Warning          ACRONIS_BASE_URL, ACRONIS_CLIENT_ID are set but not used: PARTNERS_FILE names the partners',
    );
  });
});

describe('a partners file that cannot be used', () => {
  const withFile = async (edit: (file: { default?: string; partners: Record<string, unknown>[] }) => void) => {
    const original = await readFile(t.config.PARTNERS_FILE as string, 'utf8');
    const file = JSON.parse(original) as { default?: string; partners: Record<string, unknown>[] };
    edit(file);
    const path = `${t.config.PARTNERS_FILE as string}.edited.json`;
    await writeFile(path, JSON.stringify(file));
    return path;
  };

  it('names both partners that use the same API client, for check and any other command alike (exit 2)', async () => {
    const path = await withFile((f) => {
      (f.partners[1] as Record<string, unknown>).base_url = (f.partners[0] as Record<string, unknown>).base_url;
      (f.partners[1] as Record<string, unknown>).client_id_env = 'DC1_CLIENT_ID';
    });
    for (const command of ['check', 'status']) {
      const run = await runCli(t, [command], { ...t.secretEnv, PARTNERS_FILE: path });
      expect(run.code, `${command}: ${run.stderr}`).toBe(2);
      noStack(run.stderr);
      expect(run.stderr.trim()).toBe(
        `acronis-onboard: partners file ${path}: partners[1].client_id_env: partners "dc1" and "dc2" use the same API client in the same data centre: one client reaches one partner tenant, so give each partner its own`,
      );
    }
  });

  it('names the twin of a duplicate name, an unknown default and a missing variable', async () => {
    const cases: [(f: { default?: string; partners: Record<string, unknown>[] }) => void, RegExp][] = [
      [
        (f) => ((f.partners[1] as Record<string, unknown>).name = 'dc1'),
        /partners\[1\]\.name: "dc1" is also partners\[0\]'s name/,
      ],
      [(f) => (f.default = 'dc9'), /default: names no partner of the file \("dc9"\)/],
      [
        (f) => ((f.partners[1] as Record<string, unknown>).client_secret_env = 'DC2_NOT_SET'),
        /partners\[1\]\.client_secret_env: partner "dc2": the environment variable DC2_NOT_SET is not set/,
      ],
    ];
    for (const [edit, message] of cases) {
      const path = await withFile(edit);
      const run = await runCli(t, ['check'], { ...t.secretEnv, PARTNERS_FILE: path });
      expect(run.code, run.stderr).toBe(2);
      noStack(run.stderr);
      expect(run.stderr).toMatch(message);
    }
  });
});
