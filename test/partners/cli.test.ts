import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretBox, generateSecretsKey, keyIdOf } from '../../src/secrets/secret-box.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { RESULT_COLUMNS } from '../../src/workers/results.js';
import { runCli } from '../helpers/cli.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';

/**
 * The operator's per-customer commands on an install serving two partners in two data centres
 * (docs/partners.md): each finds a customer's job in its own data centre's queue and names its
 * data centre. The built CLI runs with the partners file and its clients' variables.
 */
let t: TwoPartnerInstall;
let batchId: string;

const ASSIGN_ROLES = '^/users/\\{user_id\\}/access_policies$';
const cli = (args: string[], env: Record<string, string> = {}) => runCli(t, args, { ...t.secretEnv, ...env });
const callsIn = (sim: TwoPartnerInstall['sims'][number], endpoint: string) =>
  Object.values(sim.stats().byEndpoint[endpoint] ?? {}).reduce((a, b) => a + b, 0);

beforeAll(async () => {
  // Two attempts per step, so a fault on every PUT exhausts the step.
  t = await startTwoPartnerInstall({ label: 'partners-cli', env: { STEP_ATTEMPTS: '2' } });
  await t.startWorkers();
  // The second data centre refuses every role assignment: its customers fail there, the first's do not.
  t.sims[1].configure({ faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: ASSIGN_ROLES }] });
  const east = sampleCustomers(3, 'East', { partner: 'dc1', activation: 'password' });
  const west = sampleCustomers(2, 'West', { partner: 'dc2', activation: 'password' });
  const { batch } = await t.producer.enqueue({ source: 'test', label: 'two dc cli' }, [...east, ...west]);
  batchId = batch.id;
  expect(await t.waitForBatch(batchId)).toMatchObject({ done: 3, failed: 2 });
  t.sims[1].configure({ faults: [] });
});
afterAll(async () => {
  await t?.close();
});

describe('the CLI on an install with two data centres', () => {
  it('retry: a customer failed in the second data centre is finished there, from the step that failed', async () => {
    t.sims[1].resetStats();
    const run = await cli(['retry', 'West-1']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('West-1: queued again at assign-roles');
    await t.waitForBatch(batchId);
    expect(await t.app.store.getCustomer('West-1')).toMatchObject({ state: 'done', partner: 'dc2' });
    // The job was the second data centre's: only its API was asked, and only the failed step again.
    expect(callsIn(t.sims[1], 'PUT /users/{user_id}/access_policies')).toBe(1);
    expect(callsIn(t.sims[1], 'POST /tenants')).toBe(0);
    expect(t.sims[0].state().tenants.some((x) => x.customer_id === 'West-1')).toBe(false);
    const [dc1Queue, dc2Queue] = t.app.queues;
    expect(await dc2Queue!.getJob(jobIdFor('West-1', 'assign-roles'))).toBeDefined();
    expect(await dc1Queue!.getJob(jobIdFor('West-1', 'assign-roles'))).toBeUndefined();
  });

  it('status: each partner counted, each failed customer with its partner; --partner keeps one', async () => {
    const all = await cli(['status', batchId]);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toMatch(/^ {2}partner dc1 {2}total 3 {2}done 3$/m);
    expect(all.stdout).toMatch(/^ {2}partner dc2 {2}total 2 {2}done 1 {2}failed 1$/m);
    expect(all.stdout).toMatch(/^ {2}failed {2}West-2 \(dc2\) at assign-roles: .*503/m);

    const dc1 = await cli(['status', batchId, '--partner', 'DC1']);
    expect(dc1.code, dc1.stderr).toBe(0);
    expect(dc1.stdout).toContain('partner dc1  total 3  done 3');
    expect(dc1.stdout).not.toContain('partner dc2');
    expect(dc1.stdout).not.toContain('West-2');

    const json = JSON.parse((await cli(['status', batchId, '--format', 'json'])).stdout);
    expect(json.partners).toMatchObject({ dc1: { total: 3, done: 3 }, dc2: { total: 2, done: 1, failed: 1 } });
    expect(json.failed).toEqual([expect.objectContaining({ customer: 'West-2', partner: 'dc2' })]);

    const listed = await cli(['status', '--partner', 'dc2']);
    expect(listed.stdout).toContain(batchId);
    expect(listed.stdout).toContain('partner dc2  total 2  done 1  failed 1');

    const unknown = await cli(['status', batchId, '--partner', 'nowhere']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown partner "nowhere": this install serves "dc1", "dc2"');
  });

  it("results: each customer's partner, data centre and install commands name its own data centre", async () => {
    const run = await cli(['results', batchId]);
    expect(run.code, run.stderr).toBe(0);
    const [header, ...rows] = parse(run.stdout) as string[][];
    expect(header).toEqual([...RESULT_COLUMNS.slice(0, 2), 'partner', 'data_center', ...RESULT_COLUMNS.slice(2)]);
    const byKey = new Map(rows.map((r) => [r[0], Object.fromEntries(header!.map((h, i) => [h, r[i]]))]));
    const [dc1, dc2] = t.sims;
    for (const key of ['East-1', 'East-2', 'East-3']) {
      const row = byKey.get(key)!;
      expect(row).toMatchObject({ partner: 'dc1', data_center: dc1.url, state: 'done' });
      expect(row.install_linux).toContain(`--rain=${dc1.url} `);
      expect(row.install_windows).toContain(`--reg-address=${dc1.url} `);
    }
    const west = byKey.get('West-1')!;
    expect(west).toMatchObject({ partner: 'dc2', data_center: dc2.url, state: 'done' });
    expect(west.install_linux).toContain(`--rain=${dc2.url} `);
    expect(west.install_windows).toContain(`--reg-address=${dc2.url} `);
    expect(byKey.get('West-2')).toMatchObject({ partner: 'dc2', data_center: dc2.url, state: 'failed' });
  });

  it('results: a customer of a partner the file no longer lists gets no install commands, and says why (exit 1)', async () => {
    const record = t.app.keys.customer('East-3');
    await t.app.redis.hset(record, 'partner', 'gone');
    try {
      const run = await cli(['results', batchId, '--format', 'json']);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('customer East-3: not shown: install commands: unknown partner "gone"');
      const rows = JSON.parse(run.stdout) as Record<string, string>[];
      const east = rows.find((r) => r.customer === 'East-3');
      expect(east).toMatchObject({ partner: 'gone', data_center: '', install_linux: '', install_windows: '' });
      expect(east!.registration_token).not.toBe('');
      expect(rows.find((r) => r.customer === 'East-1')?.install_linux).toContain(t.sims[0].url);
    } finally {
      await t.app.redis.hset(record, 'partner', 'dc1');
    }
  });

  it('retry: a customer of a partner the file no longer lists is one line naming the partners served (exit 2)', async () => {
    const record = t.app.keys.customer('West-2');
    await t.app.redis.hset(record, 'partner', 'gone');
    try {
      const run = await cli(['retry', 'West-2']);
      expect(run.code).toBe(2);
      expect(run.stderr.trim()).toBe('acronis-onboard: unknown partner "gone": this install serves "dc1", "dc2"');
      expect(await t.app.store.getCustomer('West-2')).toMatchObject({ state: 'failed' });
    } finally {
      await t.app.redis.hset(record, 'partner', 'dc2');
    }
  });

  it("resend-activation: the e-mail goes out through the customer's own data centre, its timeline there says so", async () => {
    const [mail] = sampleCustomers(1, 'Mail', { partner: 'dc2' });
    const { batch } = await t.producer.enqueue({ source: 'test', label: 'mail' }, [mail!]);
    await t.waitForBatch(batch.id);
    const mailsIn = (sim: TwoPartnerInstall['sims'][number]) =>
      sim.state().users.find((u) => u.login === mail!.email)?.activation_emails_sent;
    expect([mailsIn(t.sims[0]), mailsIn(t.sims[1])]).toEqual([undefined, 1]);

    const run = await cli(['resend-activation', 'Mail-1']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain(`Mail-1: activation e-mail sent again to ${mail!.email}`);
    expect(mailsIn(t.sims[1])).toBe(2);
    const dc2Queue = t.app.queueFor('dc2');
    const job = await dc2Queue.getJob(jobIdFor('Mail-1', 'activate-user'));
    const { logs } = await dc2Queue.getJobLogs(job!.id!);
    expect(logs.at(-1)).toBe(`resend-activation: activation e-mail sent again to ${mail!.email}`);
  });

  it("reseal: the step jobs of both data centres' queues are sealed again with the new key", async () => {
    const oldKey = t.config.SECRETS_KEY!;
    const newKey = generateSecretsKey();
    const [oldId, newId] = [createSecretBox(oldKey).keyIds[0], createSecretBox(newKey).keyIds[0]];
    const sealedKeyIds = async () => {
      const ids: (string | undefined)[][] = [];
      for (const queue of t.app.queues) {
        const jobs = await queue.getJobs(['completed', 'failed']);
        const sealed = jobs.flatMap((job) =>
          'request' in job.data
            ? [job.data.request.password_sealed, job.data.facts.passwordSealed, job.data.facts.tokenSealed]
            : [],
        );
        ids.push(sealed.filter((value) => value !== undefined).map(keyIdOf));
      }
      return ids;
    };
    const before = await sealedKeyIds();
    expect(before.map((ids) => ids.length > 0)).toEqual([true, true]);
    expect(new Set(before.flat())).toEqual(new Set([oldId]));

    const run = await cli(['reseal'], { SECRETS_KEY: newKey, SECRETS_KEY_PREVIOUS: oldKey });
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('SECRETS_KEY_PREVIOUS can be removed');
    const after = await sealedKeyIds();
    expect(after.map((ids) => ids.length)).toEqual(before.map((ids) => ids.length));
    expect(new Set(after.flat())).toEqual(new Set([newId]));
  });
});
