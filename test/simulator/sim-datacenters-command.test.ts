import { randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { refusedSim, SIM_CWD, startSimProcess } from '../helpers/sim-process.js';
import { requestToken } from '../helpers/simulator.js';

/** `sim --datacenters …` once every data centre is up (its last line). */
const startDataCentres = (args: string[]) => startSimProcess(args, 'Ctrl-C stops every data centre.');

async function tokenStatus(baseUrl: string, clientId: string, secret: string): Promise<number> {
  const response = await requestToken(baseUrl, clientId, secret);
  await response.body?.cancel();
  return response.status;
}

interface PartnersFile {
  default: string;
  partners: { name: string; base_url: string; client_id_env: string; client_secret_env: string; rate_limit?: number }[];
}

describe('acronis-onboard sim --datacenters', () => {
  it('runs two data centres with their own partner, client and rate limit, and writes the partners file', async () => {
    const path = join(SIM_CWD, `partners-${randomUUID()}.json`);
    const { child, stdout, exited } = await startDataCentres([
      '--datacenters',
      '2',
      '--rate-limit',
      '100,50',
      '--seed',
      `cli-dcs-${randomUUID()}`,
      '--partners-file',
      path,
    ]);
    try {
      const env = (name: string) => new RegExp(`^${name}=(\\S+)$`, 'm').exec(stdout)?.[1] as string;
      const urls = [...stdout.matchAll(/^DC\d listening on (\S+) /gm)].map((match) => match[1] as string);
      expect(urls).toHaveLength(2);
      expect(stdout).toMatch(/^ {2}Partner tenant {4}Sim Partner DC1 \(/m);
      expect(stdout).toMatch(/^ {2}Partner tenant {4}Sim Partner DC2 \(/m);
      expect(env('PARTNERS_FILE')).toBe(path);

      const file = JSON.parse(readFileSync(path, 'utf8')) as PartnersFile;
      expect(file).toEqual({
        default: 'dc1',
        partners: [
          {
            name: 'dc1',
            base_url: urls[0],
            client_id_env: 'DC1_ACRONIS_CLIENT_ID',
            client_secret_env: 'DC1_ACRONIS_CLIENT_SECRET',
            rate_limit: 100,
          },
          {
            name: 'dc2',
            base_url: urls[1],
            client_id_env: 'DC2_ACRONIS_CLIENT_ID',
            client_secret_env: 'DC2_ACRONIS_CLIENT_SECRET',
            rate_limit: 50,
          },
        ],
      });
      expect(statSync(path).mode & 0o777).toBe(0o600);
      // The secrets are in the .env lines, never in the file.
      const [dc1, dc2] = [1, 2].map((dc) => ({
        id: env(`DC${dc}_ACRONIS_CLIENT_ID`),
        secret: env(`DC${dc}_ACRONIS_CLIENT_SECRET`),
      }));
      expect(readFileSync(path, 'utf8')).not.toContain(dc1!.secret);
      expect(readFileSync(path, 'utf8')).not.toContain(dc2!.secret);

      expect(await tokenStatus(urls[0]!, dc1!.id, dc1!.secret)).toBe(200);
      expect(await tokenStatus(urls[1]!, dc2!.id, dc2!.secret)).toBe(200);
      expect(await tokenStatus(urls[1]!, dc1!.id, dc1!.secret)).toBe(401);
      const limits = await Promise.all(
        urls.map(
          async (url) => ((await (await fetch(`${url}/__sim/config`)).json()) as { rateLimit: number }).rateLimit,
        ),
      );
      expect(limits).toEqual([100, 50]);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('applies a single --rate-limit to each data centre, and says how to get a partners file', async () => {
    const { child, stdout, exited } = await startDataCentres(['--datacenters', '3', '--rate-limit', '7']);
    try {
      expect(stdout.match(/^ {2}Rate limit {8}7 requests per second$/gm)).toHaveLength(3);
      expect(stdout).toContain('--partners-file PATH writes a partners file');
      expect(stdout).not.toContain('PARTNERS_FILE=');
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('with one data centre prints the usual output, then a one-partner file with its .env lines', async () => {
    const path = join(SIM_CWD, `partners-${randomUUID()}.json`);
    const { child, stdout, exited } = await startSimProcess(
      ['--rate-limit', '30', '--partners-file', path],
      'DC1_ACRONIS_CLIENT_SECRET=',
    );
    try {
      const baseUrl = /^export ACRONIS_BASE_URL=(\S+)$/m.exec(stdout)?.[1];
      const clientId = /^export ACRONIS_CLIENT_ID=(\S+)$/m.exec(stdout)?.[1];
      expect(stdout).toMatch(/^Partner tenant {4}Simulated Partner \(/m);
      expect(stdout).toContain(`DC1_ACRONIS_CLIENT_ID=${clientId}`);
      const file = JSON.parse(readFileSync(path, 'utf8')) as PartnersFile;
      expect(file).toEqual({
        default: 'dc1',
        partners: [
          {
            name: 'dc1',
            base_url: baseUrl,
            client_id_env: 'DC1_ACRONIS_CLIENT_ID',
            client_secret_env: 'DC1_ACRONIS_CLIENT_SECRET',
            rate_limit: 30,
          },
        ],
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });

  it('refuses a bad --rate-limit list, a count out of 1..4 and a list of the wrong length, with exit code 2', async () => {
    const badLimit = await refusedSim('--datacenters', '2', '--rate-limit', '100,x');
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toContain('"100,x" is not N, or N,N,… one per data centre');
    for (const count of ['0', '5', 'two']) {
      const refused = await refusedSim('--datacenters', count);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('--datacenters must be an integer in 1..4');
    }
    const tooMany = await refusedSim('--datacenters', '2', '--rate-limit', '1,2,3');
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('--rate-limit gives 3 limits for 2 data centres');
  });

  it('refuses ports that run past 65535, and a partners file it cannot write, with exit code 2', async () => {
    const ports = await refusedSim('--datacenters', '2', '--port', '65535');
    expect(ports.code).toBe(2);
    expect(ports.stderr).toContain('port 65535 leaves no room for 2 consecutive ports');
    const unwritable = await refusedSim(
      '--datacenters',
      '2',
      '--partners-file',
      join(SIM_CWD, 'no-such-dir', 'p.json'),
    );
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toContain('cannot be written (ENOENT)');
    expect(unwritable.stderr).not.toMatch(/\n\s+at /);
  });
});
