import { describe, expect, it } from 'vitest';
import { CsvFileError } from '../../src/producers/csv-file-error.js';
import { validateCsv } from '../../src/producers/csv-import.js';
import { readCustomerCsv, type CsvRowEvent } from '../../src/producers/csv-rows.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { csvFixture, tempCsv } from '../helpers/csv.js';

/** Reading and judging a customer CSV: no Redis, no API — what a file says, line by line. */

async function eventsOf(path: string, opts: Parameters<typeof readCustomerCsv>[1] = {}): Promise<CsvRowEvent[]> {
  const events: CsvRowEvent[] = [];
  for await (const event of readCustomerCsv(path, opts)) events.push(event);
  return events;
}

async function fileError(path: string, opts: Parameters<typeof readCustomerCsv>[1] = {}): Promise<CsvFileError> {
  try {
    await validateCsv(path, opts);
  } catch (err) {
    if (err instanceof CsvFileError) return err;
    throw err;
  }
  throw new Error(`${path} was read without a file error`);
}

const goods = (events: CsvRowEvent[]) =>
  events.flatMap((e) => (e.kind === 'good' ? [{ line: e.line, ...e.request }] : []));
const bads = (events: CsvRowEvent[]) =>
  events.flatMap((e) =>
    e.kind === 'bad' ? e.problems.map((p) => ({ line: e.line, field: p.field, reason: p.reason })) : [],
  );

describe('reading a customer CSV', () => {
  it('accepts a UTF-8 BOM and CRLF line ends, and quoted CRLFs keep the line numbers right', async () => {
    const path = tempCsv(
      'bom-crlf.csv',
      '\uFEFFname,email,external_id,notes\r\nZürich Café AG,it@zurich-cafe.example,bom-1,\r\n"Two\r\nline note",it@two.example,bom-2,\r\n\r\nAfter Blank,it@after-blank.example,bom-3,"a\r\nb"\r\nLast One,it@last.example,bom-4,x\r\n',
    );
    const events = await eventsOf(path);
    expect(events[0]).toMatchObject({ kind: 'header', line: 1 });
    // "Two\r\nline note" is a name with a line break: a bad row, reported on the line it starts.
    expect(bads(events)).toEqual([{ line: 3, field: 'name', reason: expect.stringContaining('one line') }]);
    expect(goods(events).map((g) => [g.line, g.name, g.external_id])).toEqual([
      [2, 'Zürich Café AG', 'bom-1'],
      [6, 'After Blank', 'bom-3'],
      [8, 'Last One', 'bom-4'],
    ]);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks; each record is numbered by the line it starts on', async () => {
    const events = await eventsOf(csvFixture('quoted-fields.csv'));
    expect(goods(events).map((g) => [g.line, g.name])).toEqual([
      [2, 'Smith, Jones & Co'],
      [4, 'O"Brien Ltd'],
      [5, 'Plain Name'],
      [8, 'After Multi'],
    ]);
    expect(events.find((e) => e.kind === 'header')).toMatchObject({
      columns: { unknown: [{ column: 4, header: 'notes' }] },
    });
  });

  it('takes columns in any order, their names in any case, with spaces, hyphens or underscores', async () => {
    const events = await eventsOf(csvFixture('reordered-headers.csv'));
    expect(events[0]).toMatchObject({
      kind: 'header',
      columns: { fields: ['email', 'external_id', 'first_name', 'name', 'last_name', 'language'], unknown: [] },
    });
    expect(goods(events)).toEqual([
      {
        line: 2,
        email: 'it@reordered-1.example',
        external_id: 'ro-1',
        first_name: 'Ada',
        name: 'Reordered One',
        last_name: 'Lovelace',
        language: 'en',
      },
      {
        line: 3,
        email: 'it@reordered-2.example',
        external_id: 'ro-2',
        first_name: 'Alan',
        name: 'Reordered Two',
        last_name: 'Turing',
        language: 'de',
      },
    ]);
  });

  it('reports unknown columns and ignores them; the rows still count', async () => {
    const v = await validateCsv(csvFixture('unknown-column.csv'));
    expect(v.columns.unknown).toEqual([
      { column: 4, header: 'account_manager' },
      { column: 5, header: 'notes' },
    ]);
    expect(v).toMatchObject({ rows: 2, goodRows: 2, badRowCount: 0 });
  });

  it('judges every row: the reason, the field and the line of each bad one, the good ones beside them', async () => {
    const v = await validateCsv(csvFixture('mixed-bad-rows.csv'), { profile: STANDARD_PROFILE });
    const problems = v.badRows.flatMap((b) =>
      b.problems.map((p) => ({ line: b.line, field: p.field, reason: p.reason })),
    );
    expect(problems.map((p) => [p.line, p.field])).toEqual([
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
    const reason = (line: number) => problems.find((p) => p.line === line)?.reason;
    expect(reason(6)).toBe('is not an e-mail address');
    expect(reason(7)).toBe('is required');
    expect(reason(8)).toBe('is longer than 255 characters');
    expect(reason(9)).toContain('one line of text');
    expect(reason(12)).toBe('is longer than 255 characters');
    expect(reason(13)).toContain('pck_per_workload or pck_per_gigabyte');
    expect(reason(14)).toContain('email, password, none');
    expect(reason(16)).toBe('has 3 fields, the header has 9');
    expect(reason(17)).toBe('same customer as line 2 (key "mix-1"); only line 2 is imported');
    expect(reason(18)).toContain('language code');
    expect(reason(19)).toContain('too simple');
    expect(reason(20)).toContain('is not offered by the profile (its editions: pck_per_workload)');
    expect(reason(21)).toContain('same tenant name as line 15');
    expect(reason(22)).toContain('same login as line 2');
    expect(reason(23)).toBe('is longer than 254 characters');
    expect(reason(24)).toBe('has 10 fields, the header has 9');
    expect(reason(29)).toBe('same customer as line 28 (key "mix no id"); only line 28 is imported');
    expect(v).toMatchObject({ rows: 24, blankRows: 1, goodRows: 6, badRowCount: 18 });
  });

  it('refuses a file whose header lacks a required column, naming it and the columns found', async () => {
    const err = await fileError(csvFixture('missing-email-column.csv'));
    expect(err.problem).toBe('bad-header');
    expect(err.message).toContain('no "email" column');
    expect(err.message).toContain('"mail"');
    const twice = await fileError(
      tempCsv('twice.csv', 'name,Email,E MAIL,email\nA,a@a.example,b@b.example,c@c.example\n'),
    );
    expect(twice.message).toContain('columns 2 and 4 both hold "email"');
    const semicolons = await fileError(tempCsv('semicolons.csv', 'name;email\nAcme;it@acme.example\n'));
    expect(semicolons.message).toContain('fields must be separated by commas');
  });

  it('refuses an empty file (no header) and a header without rows', async () => {
    expect(await fileError(csvFixture('empty.csv'))).toMatchObject({ problem: 'no-header' });
    expect(await fileError(tempCsv('blank-lines.csv', '\n\r\n\n'))).toMatchObject({ problem: 'no-header' });
    expect(await fileError(csvFixture('header-only.csv'))).toMatchObject({ problem: 'no-rows' });
    expect(await fileError(tempCsv('only-blank-rows.csv', 'name,email\n,\n , \n'))).toMatchObject({
      problem: 'no-rows',
    });
  });

  it('refuses binary and non-UTF-8 files, naming the line', async () => {
    const binary = await fileError(
      tempCsv('binary.csv', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x0a, 0x00, 0x01, 0x02, 0xff, 0xfe, 0x00, 0x10])),
    );
    expect(binary).toMatchObject({ problem: 'not-text', line: 2 });
    expect(binary.message).toContain('NUL byte');
    const xlsx = await fileError(
      tempCsv('workbook.csv', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64, 1)])),
    );
    expect(xlsx.message).toContain('Excel workbook');
    const utf16 = await fileError(
      tempCsv('utf16.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('name,email\n', 'utf16le')])),
    );
    expect(utf16.message).toContain('UTF-16');
    // "Café" saved as Windows-1252: é is the single byte 0xE9.
    const latin1 = await fileError(
      tempCsv('latin1.csv', Buffer.from('name,email\nGood,it@good.example\nCaf\xe9 Bar,it@cafe.example\n', 'latin1')),
    );
    expect(latin1).toMatchObject({ problem: 'not-utf8', line: 3 });
    expect(latin1.message).toContain('0xE9');
  });

  it('reads a multi-byte character split across two read chunks', async () => {
    // createReadStream reads 64 KiB at a time: put "é" (2 bytes) across the boundary.
    const head = 'name,email,notes\n';
    const filler = 'x'.repeat(64 * 1024 - head.length - 'Café Split,it@split.example,'.length + 3);
    const path = tempCsv('split.csv', `${head}Café Split,it@split.example,${filler}é\nNext,it@next.example,\n`);
    const v = await validateCsv(path);
    expect(v).toMatchObject({ goodRows: 2, badRowCount: 0 });
  });

  it('refuses a file with a quote never closed, or with more rows than the cap, before anything else', async () => {
    const open = await fileError(
      tempCsv('open-quote.csv', 'name,email\nGood,it@good.example\n"Never closed,it@x.example\nMore,it@more.example\n'),
    );
    expect(open).toMatchObject({ problem: 'malformed', line: 3 });
    expect(open.message).toContain('never closed');
    const many = await fileError(tempCsv('many.csv', 'name,email\nA,a@a.example\nB,b@b.example\nC,c@c.example\n'), {
      maxRows: 2,
    });
    expect(many).toMatchObject({ problem: 'too-many-rows', line: 4 });
  });

  it('keeps a stray quote inside an unquoted field as written', async () => {
    const events = await eventsOf(tempCsv('stray-quote.csv', 'name,email\nJoe "The Shop" Ltd,it@joe.example\n'));
    expect(goods(events).map((g) => g.name)).toEqual(['Joe "The Shop" Ltd']);
  });
});
