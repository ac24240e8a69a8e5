import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf, type CustomerRequest } from '../../src/onboarding/customer-request.js';
import { importCsv } from '../../src/producers/csv-import.js';
import { runCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { blindStore, startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';

/**
 * `import` on an install serving two partners in two simulated data centres (docs/csv.md
 * "Partners"): the built command, the partners file and the clients' variables in its environment,
 * workers in this process.
 */

let t: TwoPartnerInstall;

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'csv-partners' });
  await t.startWorkers();
  // Recorded under dc1 before any file names it for dc2.
  const { batch } = await t.producer.enqueue({ source: 'test', label: 'before' }, sampleCustomers(2, 'Settled'));
  await t.waitForBatch(batch.id);
});
afterAll(async () => {
  await t?.close();
});

const importCli = (args: string[]) => runCli(t, ['import', ...args], t.secretEnv);
const keysIn = (i: 0 | 1) => new Set(t.sims[i].state().tenants.map((x) => x.customer_id));
const batchIdOf = (stdout: string) => /^batch (\S+)/m.exec(stdout)?.[1] as string;

const east = sampleCustomers(5, 'East', { partner: 'dc1' });
const west = sampleCustomers(5, 'West', { partner: 'DC2' });
const plain = sampleCustomers(2, 'Plain');
const nowhere = sampleCustomers(1, 'Nowhere', { partner: 'nowhere' });
const moved = sampleCustomers(1, 'Settled', { partner: 'dc2' });
// Header on line 1: East 2–6, West 7–11, Nowhere 12, Plain 13–14, Settled 15.
const mixed: CustomerRequest[] = [...east, ...west, ...nowhere, ...plain, ...moved];

describe('a CSV across two partners', () => {
  it('onboards each customer once in its own data centre; a bad partner and a moved customer are bad rows by line', async () => {
    const file = tempCsv('two-partners.csv', csvOf(mixed));
    const run = await importCli([file]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain('2 bad rows, not imported:');
    expect(run.stderr).toContain('line 12, partner: unknown partner "nowhere": this install serves "dc1", "dc2"');
    expect(run.stderr).toContain(
      'line 15, partner: customer "Settled-1" is recorded under partner "dc1", not "dc2": ' +
        'moving a customer between partners is not supported',
    );
    expect(run.stdout).toContain('per partner: dc1 7, dc2 5');
    expect(run.stderr).not.toContain('PartnerMismatchError');

    const batchId = batchIdOf(run.stdout);
    expect(await t.waitForBatch(batchId)).toMatchObject({ total: 12, done: 12, failed: 0 });
    const inDc1 = expectEachOnboardedOnce(t.sims[0].state(), [...east, ...plain]);
    const inDc2 = expectEachOnboardedOnce(t.sims[1].state(), west);
    for (const { tenant } of inDc1) expect(tenant.parent_id).toBe(t.sims[0].seed.partnerTenantId);
    for (const { tenant } of inDc2) expect(tenant.parent_id).toBe(t.sims[1].seed.partnerTenantId);
    for (const c of west) expect(keysIn(0).has(customerKeyOf(c))).toBe(false);
    for (const c of [...east, ...plain, ...moved]) expect(keysIn(1).has(customerKeyOf(c))).toBe(false);
    expect(keysIn(0).has('Nowhere-1') || keysIn(1).has('Nowhere-1')).toBe(false);

    expect(await t.app.store.getCustomer('Settled-1')).toMatchObject({ partner: 'dc1', state: 'done' });
    expect(await t.app.store.getCustomer('Nowhere-1')).toBeUndefined();
    // The batch page lists the same bad rows.
    expect((await t.app.store.csvBadRows(batchId)).map((b) => b.line)).toEqual([12, 15]);
  });

  it('--dry-run counts the rows per partner and names each row’s partner, writing nothing', async () => {
    const batches = (await t.app.store.listBatches(1000)).length;
    const run = await importCli(['--dry-run', tempCsv('two-partners-dry.csv', csvOf(mixed))]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stdout).toContain('per partner: dc1 7, dc2 5');
    expect(run.stdout).toMatch(/^line 7 {2}already onboarded {2}partner dc2 {2}West-1/m);
    expect(run.stdout).toMatch(/^line 13 {2}already onboarded {2}partner dc1 {2}Plain-1/m);
    expect(run.stderr).toContain('line 12, partner: unknown partner "nowhere"');
    expect(run.stderr).toContain('line 15, partner: customer "Settled-1" is recorded under partner "dc1"');
    expect((await t.app.store.listBatches(1000)).length).toBe(batches);
  });
});

describe('import --partner', () => {
  it('puts the rows that name no partner under it; a row naming another is a bad row', async () => {
    const solo = sampleCustomers(3, 'Solo');
    const other = sampleCustomers(1, 'Other', { partner: 'dc1' });
    const file = tempCsv('solo.csv', csvOf([...solo, ...other]));
    const run = await importCli(['--partner', 'DC2', file]);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toContain(
      'line 5, partner: names partner "dc1", but the file is imported for "dc2" (--partner)',
    );
    expect(await t.waitForBatch(batchIdOf(run.stdout))).toMatchObject({ total: 3, done: 3 });
    expectEachOnboardedOnce(t.sims[1].state(), solo);
    for (const c of solo) expect(keysIn(0).has(customerKeyOf(c))).toBe(false);
    expect(await t.app.store.getCustomer('Other-1')).toBeUndefined();
  });

  it('refuses a partner the install does not serve before reading the file (exit 2)', async () => {
    const batches = (await t.app.store.listBatches(1000)).length;
    const run = await importCli(['--partner', 'mars', tempCsv('mars.csv', csvOf(sampleCustomers(1, 'Mars')))]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--partner: unknown partner "mars": this install serves "dc1", "dc2"');
    expect((await t.app.store.listBatches(1000)).length).toBe(batches);
  });
});

describe('a customer recorded under another partner between the look and the queue', () => {
  it('is a bad row of the report; the rest of its chunk is queued in one batch', async () => {
    // The import's own look at the records sees nothing (another producer is faster); enqueue refuses.
    const blind = blindStore(t.producer.store);
    const late = sampleCustomers(2, 'Late', { partner: 'dc2' });
    const rows = csvOf([{ ...moved[0]! }, ...late]);
    const report = await importCsv({ producer: { ...t.producer, store: blind }, path: tempCsv('late.csv', rows) });
    expect(report.badRowCount).toBe(1);
    expect(report.badRows).toEqual([
      {
        line: 2,
        problems: [
          {
            field: 'partner',
            reason:
              'customer "Settled-1" is recorded under partner "dc1", not "dc2": moving a customer between partners is not supported',
          },
        ],
      },
    ]);
    expect(report.outcomes.new).toBe(2);
    const batches = (await t.app.store.listBatches(1000)).filter((b) => b.label === 'late.csv');
    expect(batches).toHaveLength(1);
    expect(await t.waitForBatch(batches[0]!.id)).toMatchObject({ total: 2, done: 2 });
    expect(await t.app.store.csvBadRows(batches[0]!.id)).toEqual(report.badRows);
    expectEachOnboardedOnce(t.sims[1].state(), late);
  });
});
