import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * `reconcile --customers-from FILE.csv`: after a failover lost records together with their place in
 * their batch, the CSV the operator imported brings them back (docs/reconcile.md "Healing a record").
 */

let t: TestPipeline;
let dir: string;
let batchId: string;
const customers = sampleCustomers(3, 'FromFile');

beforeAll(async () => {
  t = await startTestPipeline({ label: 'reconcile-customers-file' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  batchId = batch.id;
  await t.waitForBatch(batchId);
  dir = await mkdtemp(join(tmpdir(), 'reconcile-file-'));
});
afterAll(async () => {
  await t?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** What a failover that lost the claims leaves: no record, no place in the batch. */
async function loseRecord(key: string): Promise<void> {
  const { keys } = t.pipeline;
  await t.redis.del(keys.customer(key));
  await t.redis.zrem(keys.batchCustomers(batchId), key);
}

describe('reconcile --customers-from', () => {
  it("heals the records lost with their batch's list from the imported CSV; a row naming no customer is said by line", async () => {
    await loseRecord('FromFile-1');
    await loseRecord('FromFile-2');
    const file = join(dir, 'customers.csv');
    const rows = customers.map((c) => `${c.name},${c.email},${c.external_id}`);
    await writeFile(file, ['name,email,external_id', ...rows, ',nobody@example.com,'].join('\n'));

    // A plain sweep cannot know them: nothing of this install names them any more.
    const plain = await runCli(t, ['reconcile', '--json']);
    const plainOut = JSON.parse(plain.stdout) as { summary: { healed: number } };
    expect(plainOut.summary.healed).toBe(0);

    const run = await runCli(t, ['reconcile', '--customers-from', file, '--json']);
    expect(run.stderr).toContain('line 5: neither external_id nor name');
    const out = JSON.parse(run.stdout) as { summary: { healed: number }; unknown: string[] };
    expect(out.summary.healed).toBe(2);
    expect(out.unknown).toEqual([]);
    const records = await t.pipeline.store.getCustomers(customers.map((c) => c.external_id!));
    expect(records.map((r) => r?.state)).toEqual(['done', 'done', 'done']);
    expectEachOnboardedOnce(t.sim.state(), customers);
  });

  it('a file without an external_id or name column, or with no customer in it: said, nothing read (exit 2)', async () => {
    const noColumn = join(dir, 'no-column.csv');
    await writeFile(noColumn, 'email\nsomeone@example.com\n');
    const bad = await runCli(t, ['reconcile', '--customers-from', noColumn]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/no external_id or name column/);
    const empty = join(dir, 'empty.csv');
    await writeFile(empty, 'name,external_id\n');
    const none = await runCli(t, ['reconcile', '--customers-from', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no customer to look for/);
  });
});
