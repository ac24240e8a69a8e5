import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.js';
import { connectRedis, TEST_REDIS_URL } from '../helpers/redis.js';

/** `acronis-onboard demo --exit` as a newcomer runs it, with a small sample instead of the 350 customers. */
const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-demo-test-'));
const redis = connectRedis();
afterAll(() => redis.disconnect());

const SAMPLE = [
  'external_id,name,email,first_name,last_name,country',
  'demo-1,Alpine Dental Practice,it@alpine-dental.example,Anna,Berger,AT',
  'demo-2,Brightside Accounting LLP,admin@brightside.example,Oliver,Hughes,GB',
  'demo-3,Bad Mail Ltd,not-an-address,Tom,Reed,GB',
  'demo-4,Existing Customer 2,it@existing-two.example,Lucía,García,ES',
  'demo-5,Café Lumière SARL,gerant@cafe-lumiere.example,Élodie,Martin,FR',
  'demo-6,,nobody@example.example,No,Name,FR',
  'demo-7,Fjord Marine AS,drift@fjord-marine.example,Lars,Nilsen,NO',
].join('\n');

async function demo(args: string[], env: Record<string, string>) {
  const run = await spawnCli(dir, ['demo', '--exit', ...args], { HOME: dir, ...env });
  return { code: run.code, out: run.stdout, err: run.stderr };
}

describe('acronis-onboard demo --exit', () => {
  it('onboards every good row, reports the bad ones and the one failure, prints results and the dashboard', async () => {
    const csv = join(dir, 'small.csv');
    writeFileSync(csv, `${SAMPLE}\n`);
    const before = new Set(await redis.keys('demo-*'));
    const tmp = mkdtempSync(join(dir, 'tmp-'));
    const run = await demo(['--csv', csv], { PATH: process.env.PATH ?? '', REDIS_URL: TEST_REDIS_URL, TMPDIR: tmp });
    expect(run.code, run.err).toBe(0);
    expect(run.err).toContain('line 4, email: is not an e-mail address');
    expect(run.err).toContain('line 7, name: is required');
    // No library deprecation notice among them (fastify's FSTDEP… lines once came with every start).
    expect(run.err).not.toMatch(/FSTDEP|DeprecationWarning|FastifyDeprecation/);
    expect(run.out).toMatch(/done 4\s+failed 1/);
    expect(run.out).toContain('"Existing Customer 2"  at create-tenant');
    expect(run.out).toContain('4 of 7 rows onboarded');
    // The results file holds passwords and tokens: it goes with the demo.
    const results =
      /results \(ids, logins, agent tokens, install commands\): (\S+\.csv) \(removed when the demo ends/.exec(run.out);
    expect(results, run.out).not.toBeNull();
    expect(existsSync(results![1]!)).toBe(false);
    expect(run.out).toMatch(/dashboard: http:\/\/127\.0\.0\.1:\d+\/ {2}\(user demo, password \S+\)/);
    // The hand-made customer the import failed on is adopted under its key, then the other two (docs/adopt.md).
    expect(run.out).toMatch(
      /adopt --tenant "Existing Customer 2" --external-id demo-4 .*: batch b-\S+, 1 customer adopted, 0 failed/,
    );
    expect(run.out).toMatch(
      / {4}Existing Customer 2 \(demo-4\): done, tenant \S+, no admin user yet, pricing production/,
    );
    expect(run.out).toMatch(/adopt --all-unmanaged: batch b-\S+, 2 customers adopted, 0 failed/);
    // A deal won in the simulated HubSpot and an agreement added in the simulated ConnectWise,
    // during the batch: each onboarded and written back to its company (the simulator holds the write).
    const hubspot = /HubSpot: deal (\d+) won → customer hubspot:(\d+) onboarded, written back to company \d+/.exec(
      run.out,
    );
    expect(hubspot, run.out).not.toBeNull();
    expect(hubspot![2]).toBe(hubspot![1]);
    const cw =
      /ConnectWise: agreement (\d+) added → customer connectwise:(\d+) onboarded, written back to company \d+/.exec(
        run.out,
      );
    expect(cw, run.out).not.toBeNull();
    expect(cw![2]).toBe(cw![1]);
    // And a deal won in the simulated Pipedrive, its note written to the organization.
    const pipedrive =
      /Pipedrive: deal (\d+) won → customer pipedrive:(\d+) onboarded, written back to company \d+/.exec(run.out);
    expect(pipedrive, run.out).not.toBeNull();
    expect(pipedrive![2]).toBe(pipedrive![1]);
    // An opportunity won in the simulated Salesforce (its outbound message), written to the Account,
    // and a company made a Customer in the simulated Autotask (its signed callout), written to its UDFs.
    const salesforce =
      /Salesforce: opportunity (006\w{15}) won → customer salesforce:(006\w{15}) onboarded, written back to company 001\w{15}/.exec(
        run.out,
      );
    expect(salesforce, run.out).not.toBeNull();
    expect(salesforce![2]).toBe(salesforce![1]);
    const autotask =
      /Autotask PSA: company (\d+) became a Customer → customer C(\d+) onboarded, written back to company (\d+)/.exec(
        run.out,
      );
    expect(autotask, run.out).not.toBeNull();
    expect([autotask![2], autotask![3]]).toEqual([autotask![1], autotask![1]]);
    expect(run.out).toMatch(/sources: {3}http:\/\/127\.0\.0\.1:\d+\/sources/);
    // Then a customer's life after day one, on two of the CSV's customers, as an operator asks:
    // one suspended and resumed, one offboarded with its deletion pending (the /lifecycle page).
    const suspended = / {2}done {2}suspend .+ \(([\w-]+)\): disabled\n/.exec(run.out);
    expect(suspended, run.out).not.toBeNull();
    expect(run.out).toMatch(new RegExp(` {2}done {2}resume .+ \\(${suspended![1]}\\): enabled\\n`));
    const offboarded =
      / {2}pending-deletion {2}offboard .+ \(([\w-]+)\): disabled; to be deleted at (\S+) unless cancelled/.exec(
        run.out,
      );
    expect(offboarded, run.out).not.toBeNull();
    expect(offboarded![1]).not.toBe(suspended![1]);
    expect(run.out).toMatch(/lifecycle: http:\/\/127\.0\.0\.1:\d+\/lifecycle/);
    // Then reconcile on a third: console edits found in words, fixed, and nothing found after.
    const drifted = /reconcile: (\S+) edited in the Acronis console/.exec(run.out);
    expect(drifted, run.out).not.toBeNull();
    expect(run.out).toContain(`reconcile ${drifted![1]}: admin-role: the admin`);
    expect(run.out).toMatch(/ {2}--fix: change \S+ queued\n/);
    expect(run.out).toContain(`reconcile ${drifted![1]}: no difference`);
    expect(run.out).toMatch(/drift: {5}http:\/\/127\.0\.0\.1:\d+\/drift/);
    // Then one install serving two partners in two simulated data centres, from a CSV with a
    // partner column (docs/partners.md): each customer done in its own partner's data centre.
    const centres = new Map(
      [...run.out.matchAll(/^ {2}(eu|us): data centre (\S+), \d+ requests\/s$/gm)].map((m) => [m[1], m[2]]),
    );
    expect([...centres.keys()], run.out).toEqual(['eu', 'us']);
    expect(centres.get('eu')).not.toBe(centres.get('us'));
    expect(run.out).toMatch(/import partners\.csv \(a partner column\): batch b-\S+, 4 customers done, 0 failed/);
    const placed = [
      ...run.out.matchAll(/\((partners-\d)\): partner (eu|us), data centre (\S+), done, tenant [\w-]+$/gm),
    ];
    expect(placed.map((m) => [m[1], m[2]])).toEqual([
      ['partners-1', 'eu'],
      ['partners-2', 'us'],
      ['partners-3', 'eu'],
      ['partners-4', 'us'],
    ]);
    for (const m of placed) expect(m[3]).toBe(centres.get(m[2]!));
    // The sources' secrets are made per run and never shown (a HubSpot private app token starts pat-).
    expect(run.out + run.err).not.toMatch(/pat-na1-/);
    // The temporary SOURCES_DIR (and the results file) went with the demo.
    expect(readdirSync(tmp)).toEqual([]);
    // Nothing of the demo is left in Redis.
    expect((await redis.keys('demo-*')).filter((k) => !before.has(k))).toEqual([]);
  });

  it('starts a redis-server of its own when none answers at REDIS_URL', async () => {
    const csv = join(dir, 'two.csv');
    writeFileSync(csv, `${SAMPLE.split('\n').slice(0, 3).join('\n')}\n`);
    const run = await demo(['--csv', csv, '--keep-results'], {
      PATH: process.env.PATH ?? '',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(/demo: Redis a redis-server of its own \(redis:\/\/127\.0\.0\.1:\d+, stopped at the end\)/);
    expect(run.out).toContain('all 2 customers onboarded');
    // Asked to keep it: still there, for its owner only.
    const results = /results \(ids, logins, agent tokens, install commands\): (\S+\.csv) \(kept\)/.exec(run.out);
    expect(results, run.out).not.toBeNull();
    expect(statSync(results![1]!).mode & 0o777).toBe(0o600);
    rmSync(results![1]!);
  });

  it('without Redis and without redis-server: one line saying how to get one, exit 2', async () => {
    // PATH holds node only, so no redis-server can be found.
    const bin = mkdtempSync(join(tmpdir(), 'acronis-onboard-path-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const run = await demo([], { PATH: bin, REDIS_URL: 'redis://127.0.0.1:1' });
    expect(run.code).toBe(2);
    expect(run.err.trim().split('\n')).toHaveLength(1);
    expect(run.err).toContain('docker compose up -d redis');
    expect(run.err).not.toMatch(/\n\s+at /);
  });
});
