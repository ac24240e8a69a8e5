import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerRequest } from '../../src/onboarding/customer-request.js';
import { CsvFileError } from '../../src/producers/csv-file-error.js';
import { importCsv } from '../../src/producers/csv-import.js';
import type { Producer } from '../../src/producers/producer.js';
import { csvFixture, csvOf, openTestProducer, tempCsv } from '../helpers/csv.js';
import { expectEachOnboardedOnce, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/** The CSV import end to end: real Redis, the simulator over HTTP, real workers. */

let t: TestPipeline;
let producer: Producer;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'csv-import' });
  await t.startWorkers();
  producer = await openTestProducer(t);
});
afterAll(async () => {
  await t?.close();
});

async function fileErrorOf(path: string): Promise<CsvFileError> {
  const err: unknown = await importCsv({ producer, path }).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CsvFileError)) throw new Error(`expected a CsvFileError, got ${String(err)}`);
  return err;
}

describe('importing a CSV', () => {
  it('18 kinds of bad row among 6 good ones: each bad row named by line and field, every good customer onboarded once, no bad row reaches the API', async () => {
    const report = await importCsv({ producer, path: csvFixture('mixed-bad-rows.csv') });
    expect(report).toMatchObject({ rows: 24, goodRows: 6, badRowCount: 18, label: 'mixed-bad-rows.csv' });
    expect(report.badRows.map((b) => [b.line, b.problems.map((p) => p.field).join('+')])).toEqual([
      [6, 'email'],
      [7, 'name'],
      [8, 'name'],
      [9, 'name'],
      [11, 'login'],
      [12, 'login'],
      [13, 'edition'],
      [14, 'activation'],
      [16, '(row)'],
      [17, 'external_id'],
      [18, 'language'],
      [19, 'password'],
      [20, 'edition'],
      [21, 'name'],
      [22, 'email'],
      [23, 'email'],
      [24, '(row)'],
      [29, 'name'],
    ]);
    expect(report.outcomes).toEqual({ new: 6, 'already-onboarded': 0, 'already-queued': 0, retry: 0 });
    expect(report.batch).toMatchObject({ source: 'csv', label: 'mixed-bad-rows.csv', total: 6 });

    const ended = await t.waitForBatch(report.batch!.id);
    expect(ended).toMatchObject({ total: 6, done: 6, failed: 0 });
    const state = t.sim.state();
    const withIds: CustomerRequest[] = [
      { name: 'Mix Good One', email: 'it@mix-good-1.example', external_id: 'mix-1' },
      { name: 'Mix Good Two, Ltd', email: 'it@mix-good-2.example', external_id: 'mix-2' },
      { name: 'Mix Good Three', email: 'it@mix-good-3.example', external_id: 'mix-11' },
      { name: 'Mix Good Four', email: 'it@mix-good-4.example', external_id: 'mix-20', login: 'mix4.admin' },
      { name: 'Mix Good Five', email: 'it@mix-good-5.example', external_id: 'mix-21', login: 'mix5.admin' },
    ];
    expectEachOnboardedOnce(state, withIds);
    // The row without an external id is keyed by its normalised name.
    expect(state.tenants.filter((x) => x.customer_id === 'mix no id').map((x) => x.name)).toEqual(['Mix No Id']);
    // The duplicate of line 2 was not imported: mix-1 is still "Mix Good One".
    expect(state.tenants.filter((x) => x.customer_id === 'mix-1').map((x) => x.name)).toEqual(['Mix Good One']);
    // Lines 6–24 hold mix-3 … mix-19 (mix-11 is the good line 15).
    const badIds = Array.from({ length: 17 }, (_, i) => `mix-${i + 3}`).filter((id) => id !== 'mix-11');
    expect(state.tenants.filter((x) => x.customer_id && badIds.includes(x.customer_id))).toEqual([]);
    expect(state.users.filter((u) => /mix-(dup|\d+)\.example$/.test(u.login))).toEqual([]);
    expect(state.tenants.filter((x) => x.kind === 'customer')).toHaveLength(6);
  });

  it('a UTF-8 file with BOM and CRLF line ends, columns reordered and named in other cases, imports like any other', async () => {
    const customers: CustomerRequest[] = [
      { email: 'it@bom-1.example', external_id: 'bom-1', name: 'Zürich Café AG', first_name: 'Ursula' },
      { email: 'it@bom-2.example', external_id: 'bom-2', name: 'Łódź Sp. z o.o.', first_name: 'Piotr' },
    ];
    const text = csvOf(customers, { eol: '\r\n', bom: true }).replace(
      'email,external_id,name,first_name',
      ' EMAIL ,External ID,Name,FIRST-NAME',
    );
    const report = await importCsv({ producer, path: tempCsv('bom-crlf.csv', text) });
    expect(report).toMatchObject({ goodRows: 2, badRowCount: 0 });
    await t.waitForBatch(report.batch!.id);
    const [zurich] = expectEachOnboardedOnce(t.sim.state(), customers);
    expect(zurich?.tenant.name).toBe('Zürich Café AG');
  });

  it('warns about an unknown column and imports the rows anyway', async () => {
    const report = await importCsv({ producer, path: csvFixture('unknown-column.csv') });
    expect(report.columns.unknown.map((u) => u.header)).toEqual(['account_manager', 'notes']);
    expect(await t.waitForBatch(report.batch!.id)).toMatchObject({ total: 2, done: 2 });
    expectEachOnboardedOnce(t.sim.state(), [
      { name: 'Unknown Column One', email: 'it@unknown-1.example', external_id: 'uc-1' },
      { name: 'Unknown Column Two', email: 'it@unknown-2.example', external_id: 'uc-2' },
    ]);
  });

  it('enqueues nothing from a file it cannot use: a missing column, an empty file, a header without rows, a binary file, a quote never closed at the end', async () => {
    const batchesBefore = (await t.pipeline.store.listBatches(1000)).length;
    // All states together: the previous test's last job may still move from active to completed.
    const jobCount = async () => Object.values(await t.pipeline.queue.getJobCounts()).reduce((sum, n) => sum + n, 0);
    const countBefore = await jobCount();
    expect(await fileErrorOf(csvFixture('missing-email-column.csv'))).toMatchObject({ problem: 'bad-header' });
    expect(await fileErrorOf(csvFixture('empty.csv'))).toMatchObject({ problem: 'no-header' });
    expect(await fileErrorOf(csvFixture('header-only.csv'))).toMatchObject({ problem: 'no-rows' });
    const binary = Buffer.concat([
      Buffer.from('name,email\nGood,it@good-binary.example\n'),
      Buffer.from([0x00, 0x9f, 0x92, 0x96]),
    ]);
    expect(await fileErrorOf(tempCsv('binary.csv', binary))).toMatchObject({ problem: 'not-text', line: 3 });
    // The problem is at the end, after good rows: still nothing is enqueued (the file is validated first).
    const goodThenBroken = `${csvOf([{ name: 'Before Broken', email: 'it@before-broken.example', external_id: 'broken-1' }])}"Never closed,it@x.example\n`;
    expect(await fileErrorOf(tempCsv('broken-end.csv', goodThenBroken))).toMatchObject({ problem: 'malformed' });
    expect(await fileErrorOf(tempCsv('nowhere.csv', '').replace('nowhere.csv', 'missing/none.csv'))).toMatchObject({
      problem: 'unreadable',
    });

    expect((await t.pipeline.store.listBatches(1000)).length).toBe(batchesBefore);
    expect(await jobCount()).toBe(countBefore);
    expect(await t.pipeline.store.getCustomer('broken-1')).toBeUndefined();
  });

  it('the same external id twice in one file: the first row is onboarded, the second reported naming the first line', async () => {
    const path = tempCsv(
      'dupes.csv',
      'external_id,name,email\ndup-1,Dup First,it@dup-first.example\ndup-2,Dup Other,it@dup-other.example\ndup-1,Dup Second,it@dup-second.example\n',
    );
    const report = await importCsv({ producer, path });
    expect(report.badRows).toEqual([
      {
        line: 4,
        problems: [{ field: 'external_id', reason: 'same customer as line 2 (key "dup-1"); only line 2 is imported' }],
      },
    ]);
    await t.waitForBatch(report.batch!.id);
    const state = t.sim.state();
    expect(state.tenants.filter((x) => x.customer_id === 'dup-1').map((x) => x.name)).toEqual(['Dup First']);
    expect(state.users.filter((u) => u.login === 'it@dup-second.example')).toEqual([]);
  });

  it('sends the rows in chunks into one batch, in file order', async () => {
    const customers = Array.from({ length: 7 }, (_, i) => ({
      name: `Chunk Customer ${i + 1}`,
      email: `it@chunk-${i + 1}.example`,
      external_id: `chunk-${i + 1}`,
    }));
    const report = await importCsv({ producer, path: tempCsv('chunks.csv', csvOf(customers)), chunkSize: 3 });
    expect(report.batch).toMatchObject({ total: 7 });
    expect((await t.pipeline.store.batchCustomers(report.batch!.id)).map((c) => c.key)).toEqual(
      customers.map((c) => c.external_id),
    );
    await t.waitForBatch(report.batch!.id);
    expectEachOnboardedOnce(t.sim.state(), customers);
  });
});

describe('a partner column on an install of one partner (no partners file)', () => {
  it('takes a row naming the one partner, "default"; a row naming another is a bad row naming the one served', async () => {
    const rows = [
      { name: 'One Partner Named', email: 'it@one-partner-named.example', external_id: 'op-1', partner: 'Default' },
      { name: 'One Partner Blank', email: 'it@one-partner-blank.example', external_id: 'op-2', partner: '' },
      { name: 'One Partner Other', email: 'it@one-partner-other.example', external_id: 'op-3', partner: 'eu' },
    ];
    const report = await importCsv({ producer, path: tempCsv('one-partner.csv', csvOf(rows)) });
    expect(report).toMatchObject({ goodRows: 2, badRowCount: 1 });
    expect(report.byPartner).toBeUndefined();
    expect(report.badRows).toEqual([
      { line: 4, problems: [{ field: 'partner', reason: 'unknown partner "eu": this install serves "default"' }] },
    ]);
    expect(await t.waitForBatch(report.batch!.id)).toMatchObject({ total: 2, done: 2 });
    expectEachOnboardedOnce(t.sim.state(), rows.slice(0, 2));
    expect(t.sim.state().tenants.some((x) => x.customer_id === 'op-3')).toBe(false);
  });
});
