import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { validateCsv } from '../../src/producers/csv-import.js';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-demo-csv-'));

/** `npx tsx scripts/generate-demo-csv.ts ROWS FILE`, as the docs say to run it. */
async function generate(rows: string): Promise<{ file: string; stderr: string }> {
  const file = join(dir, `demo-${rows}.csv`);
  const run = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/generate-demo-csv.ts', rows, file],
    { cwd: ROOT, timeout: 30_000 },
  );
  return { file, stderr: run.stderr };
}

/** What the import reports of a generated file: its row count and each bad row's line and fields. */
async function judged(file: string) {
  const v = await validateCsv(file);
  return { rows: v.rows, bad: v.badRows.map((b) => [b.line, b.problems.map((p) => p.field).join()]) };
}

describe('scripts/generate-demo-csv.ts', () => {
  it('writes the committed sample, byte for byte, for the default 350 rows', async () => {
    const { file } = await generate('350');
    expect(readFileSync(file).equals(readFileSync(join(ROOT, 'examples/demo-customers.csv')))).toBe(true);
    expect(await judged(file)).toEqual({
      rows: 350,
      bad: [
        [42, 'email'],
        [98, 'name'],
        [181, 'edition'],
        [264, 'external_id'],
      ],
    });
  });

  it('puts the deliberate problems at the same share of a shorter file', async () => {
    const { file, stderr } = await generate('100');
    expect(stderr).not.toContain('left out');
    expect(await judged(file)).toEqual({
      rows: 100,
      bad: [
        [13, 'email'],
        [29, 'name'],
        [52, 'edition'],
        [76, 'external_id'],
      ],
    });
    // The customer whose name one made by hand holds: row 43, line 44.
    expect(readFileSync(file, 'utf8').split('\n')[43]).toMatch(/^crm-20043,Existing Customer 2,/);
  });

  it('a file too short for some of them leaves those out and says which; one row still works', async () => {
    const ten = await generate('10');
    expect(ten.stderr).toContain('left out, no room for them in 10 rows: a repeated external_id');
    expect(await judged(ten.file)).toEqual({
      rows: 10,
      bad: [
        [2, 'email'],
        [4, 'name'],
        [6, 'edition'],
      ],
    });
    const one = await generate('1');
    expect(await judged(one.file)).toEqual({ rows: 1, bad: [[2, 'email']] });
  });

  it.each(['0', '2.5', 'many', '1000000'])('refuses %s rows, saying what it takes', async (rows) => {
    const failed = await generate(rows).catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 1 });
    // At most as many as there are distinct names to give them.
    expect((failed as { stderr: string }).stderr).toMatch(
      new RegExp(`rows must be a whole number from 1 to \\d+ \\(the distinct names there are\\), not "${rows}"`),
    );
  });
});
