import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSecretsKey } from '../../src/secrets/secret-box.js';
import { runCli, CLI_CWD } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * SECRETS_KEY as an operator meets it: a process with another key, a sealed value moved from
 * one customer to another, `results` on a batch with a value that does not open, a rotation.
 */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'secrets-keys' });
});
afterAll(async () => {
  await t?.close();
});

const factsOf = async (key: string) => JSON.parse((await t.redis.hget(`${t.prefix}:onb:customer:${key}`, 'facts'))!);

describe('SECRETS_KEY', () => {
  it('a command with another SECRETS_KEY than its install stops before any work: exit 2 naming SECRETS_KEY', async () => {
    const other = { SECRETS_KEY: generateSecretsKey() };
    const csv = tempCsv('other-key.csv', csvOf(sampleCustomers(2, 'KeyOther')));
    for (const args of [['status'], ['import', csv], ['work']]) {
      const run = await runCli(t, args, other);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(2);
      expect(run.stderr).toMatch(/SECRETS_KEY: is not the key this install's data in Redis is sealed with/);
    }
    expect(await t.pipeline.store.listBatches(10)).toEqual([]);
    expect((await runCli(t, ['status'])).code).toBe(0);
  });

  it("a sealed password copied into another customer's job does not open there: that customer fails at once, without retries", async () => {
    const [owner, thief] = [
      ...sampleCustomers(1, 'KeyOwner', { activation: 'password', password: 'Owner-Chosen-Pw-31!' }),
      ...sampleCustomers(1, 'KeyThief', { activation: 'password', password: 'Thief-Chosen-Pw-47!' }),
    ];
    const { batch, customers } = await t.enqueue([owner!, thief!]);
    const [ownerJob, thiefJob] = await Promise.all(customers.map((c) => t.pipeline.queue.getJob(c.jobId!)));
    await thiefJob!.updateData({
      ...thiefJob!.data,
      request: { ...thiefJob!.data.request, password_sealed: ownerJob!.data.request.password_sealed },
    });
    await t.startWorkers();
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1, failed: 1 });
    const failed = await t.pipeline.store.getCustomer(thief!.external_id!);
    expect(failed).toMatchObject({ state: 'failed', failedStep: 'activate-user' });
    expect(failed!.error).toMatch(/copied from another record/);
    const job = await t.pipeline.queue.getJob(`c-${thief!.external_id}.activate-user`);
    expect(job!.attemptsMade).toBe(1);
    const user = t.sim.state().users.find((u) => u.login === thief!.email);
    expect(user?.activated).toBe(false);
  });

  it("results: a token copied into another customer's record is not shown there; that row names it, the rest prints (exit 1); --output writes 0600", async () => {
    const customers = sampleCustomers(3, 'KeyResults');
    const { batch } = await t.enqueue(customers);
    await t.waitForBatch(batch.id);
    const [source, target] = [customers[0]!.external_id!, customers[1]!.external_id!];
    const facts = await factsOf(target);
    await t.redis.hset(
      `${t.prefix}:onb:customer:${target}`,
      'facts',
      JSON.stringify({ ...facts, tokenSealed: (await factsOf(source)).tokenSealed }),
    );

    const run = await runCli(t, ['results', batch.id, '--format', 'json']);
    expect(run.code, run.stderr).toBe(1);
    const rows = JSON.parse(run.stdout) as { customer: string; registration_token: string; unreadable: string }[];
    expect(rows.map((r) => r.customer)).toEqual(customers.map((c) => c.external_id));
    expect(rows[0]!.registration_token).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(rows[1]).toMatchObject({
      registration_token: '',
      unreadable: expect.stringMatching(/^registration_token: /),
    });
    expect(rows[2]!.registration_token).toMatch(/^[A-Z0-9]{4}-/);
    expect(rows[2]!.registration_token).not.toBe(rows[0]!.registration_token);
    expect(run.stderr).toContain(`customer ${target}: not shown: registration_token`);

    const file = join(CLI_CWD, 'onboarded.csv');
    for (const existing of [false, true]) {
      if (existing) chmodSync(file, 0o644);
      expect((await runCli(t, ['results', batch.id, '--output', file])).code).toBe(1);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(file, 'utf8')).toContain(rows[0]!.registration_token);
    }
  });

  it('rotation: with SECRETS_KEY_PREVIOUS everything opens; reseal moves it to the new key; then the old key alone is refused', async () => {
    await Promise.all(t.workers.splice(0).map((w) => w.close(2000))); // they hold the old key only
    const customers = sampleCustomers(2, 'KeyRotate', { activation: 'password' });
    await t.startWorkers();
    const { batch } = await t.enqueue(customers);
    await t.waitForBatch(batch.id);
    await Promise.all(t.workers.splice(0).map((w) => w.close(2000)));
    const before = JSON.parse((await runCli(t, ['results', batch.id, '--format', 'json'])).stdout);

    const rotating = { SECRETS_KEY: generateSecretsKey(), SECRETS_KEY_PREVIOUS: t.config.SECRETS_KEY! };
    expect((await runCli(t, ['results', batch.id, '--format', 'json'], rotating)).stdout).toBe(
      JSON.stringify(before, null, 2) + '\n',
    );
    const resealed = await runCli(t, ['reseal'], rotating);
    expect(resealed.code, resealed.stdout + resealed.stderr).toBe(0);
    expect(resealed.stdout).toMatch(/resealed \d+ value/);
    expect(resealed.stdout).toContain('SECRETS_KEY_PREVIOUS can be removed');

    const after = await runCli(t, ['results', batch.id, '--format', 'json'], { SECRETS_KEY: rotating.SECRETS_KEY });
    expect(after.code, after.stderr).toBe(0);
    expect(JSON.parse(after.stdout)).toEqual(before);
    expect(before.every((r: { password: string }) => r.password.length === 20)).toBe(true);
    const old = await runCli(t, ['status']);
    expect(old.code).toBe(2);
    expect(old.stderr).toContain('SECRETS_KEY');
  });
});
