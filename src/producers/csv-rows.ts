import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { CsvError, parse, type Parser } from 'csv-parse';
import {
  customerKeyOf,
  loginOf,
  parseCustomerRequest,
  problemsWithProfile,
  type CustomerRequest,
  type FieldProblem,
} from '../onboarding/customer-request.js';
import type { Profile } from '../onboarding/profile.js';
import { mapHeader, type ColumnMap, type CustomerField } from './csv-columns.js';
import { utf8Guard } from './csv-encoding.js';
import { CsvFileError } from './csv-file-error.js';
import { unknownPartnerProblem, type ProducerPartners } from './partner-check.js';

/**
 * Reads a customer CSV as a stream of judged rows, in bounded memory: one record at a time,
 * plus the keys, names and logins of the good rows seen so far (to catch a customer twice in
 * one file). Every row is judged by `parseCustomerRequest`, the schema the webhook uses too.
 *
 * Line numbers are those of a text editor: the line where the record starts, the header
 * being line 1 when the file starts with it. csv-parse's own `info.lines` is the line where
 * a record ends and counts a CRLF inside a quoted field twice, so lines are counted here,
 * from each record's raw text.
 */

/** Refuse a bigger file: split it (the dedupe memory and one batch's status stay reasonable). */
export const MAX_CSV_ROWS = 100_000;
/** One record of this many characters is a quote left open, not a customer: stop there rather than buffer the rest of the file. */
export const MAX_RECORD_CHARS = 64 * 1024;

export type CsvRowEvent =
  | { kind: 'header'; line: number; columns: ColumnMap }
  | { kind: 'good'; line: number; key: string; request: CustomerRequest }
  | { kind: 'bad'; line: number; problems: FieldProblem[] }
  /** A row whose cells are all empty (spreadsheets leave them at the end): ignored. */
  | { kind: 'blank'; line: number };

export interface ReadCustomerCsvOptions {
  /** The profile the rows will be queued with: a row asking what it cannot give is bad. */
  profile?: Pick<Profile, 'editions' | 'template_tenant_id' | 'offering_items'>;
  maxRows?: number;
  /** The partners a row may name (docs/csv.md "Partners"): a row naming another is bad. */
  partners?: ProducerPartners;
  /** `import --partner`: the partner of a row with no `partner` cell; a row naming another is bad. */
  partner?: string;
}

export async function* readCustomerCsv(
  file: string,
  opts: ReadCustomerCsvOptions = {},
): AsyncGenerator<CsvRowEvent, void, undefined> {
  const maxRows = opts.maxRows ?? MAX_CSV_ROWS;
  const parser = openParser(file);
  let linesConsumed = 0;
  let columns: ColumnMap | undefined;
  let rows = 0;
  const seen = new SeenInFile();
  try {
    for await (const { record, raw } of parser as AsyncIterable<{ record: string[]; raw: string }>) {
      const line = linesConsumed + countLineBreaks(leadingLineBreaks(raw)) + 1;
      linesConsumed += countLineBreaks(raw);
      // Cells all empty: a spreadsheet's leftover row (before the header too), ignored.
      const blank = record.every((cell) => cell.trim() === '');
      if (!columns) {
        if (blank) continue;
        const mapping = mapHeader(record);
        if (!mapping.ok) throw new CsvFileError('bad-header', file, `line ${line}: ${mapping.reason}`, line);
        columns = mapping.columns;
        yield { kind: 'header', line, columns };
        continue;
      }
      if (blank) {
        yield { kind: 'blank', line };
        continue;
      }
      if (++rows > maxRows) {
        const message = `has more than ${maxRows} rows (line ${line}); split it into several files`;
        throw new CsvFileError('too-many-rows', file, message, line);
      }
      yield judgeRecord(line, record, columns, opts, seen);
    }
  } catch (err) {
    throw asFileError(err, file, linesConsumed);
  }
  if (!columns)
    throw new CsvFileError('no-header', file, 'is empty: no header row (expected at least "name,email")', 1);
}

function openParser(file: string): Parser {
  return pipeline(
    createReadStream(file),
    utf8Guard(file),
    parse({
      bom: true,
      raw: true,
      // A row with too few or too many fields is a bad row, reported with its line, not the end of the import.
      relax_column_count: true,
      // A quote inside an unquoted field (`Joe "Shop" Ltd`) is kept as written.
      relax_quotes: true,
      skip_empty_lines: true,
      max_record_size: MAX_RECORD_CHARS,
    }),
    () => undefined, // errors reach the iteration in readCustomerCsv
  );
}

function judgeRecord(
  line: number,
  record: readonly string[],
  columns: ColumnMap,
  opts: ReadCustomerCsvOptions,
  seen: SeenInFile,
): CsvRowEvent {
  if (record.length !== columns.fields.length) {
    const reason = `has ${record.length} fields, the header has ${columns.fields.length}`;
    return { kind: 'bad', line, problems: [{ field: '(row)', reason }] };
  }
  return judge(line, toFields(record, columns), opts, seen);
}

type RowFields = Partial<Record<CustomerField, string>> & { quotas?: Record<string, string> };

function toFields(record: readonly string[], columns: ColumnMap): RowFields {
  const fields: RowFields = {};
  columns.fields.forEach((field, index) => {
    const cell = record[index];
    if (field?.startsWith('quota:')) {
      // An empty quota cell means "no quota of its own" for this customer.
      if (cell !== undefined && cell.trim() !== '') (fields.quotas ??= {})[field.slice('quota:'.length)] = cell;
    } else if (field) fields[field as CustomerField] = cell;
  });
  return fields;
}

function judge(line: number, fields: RowFields, opts: ReadCustomerCsvOptions, seen: SeenInFile): CsvRowEvent {
  const parsed = parseCustomerRequest(fields);
  if (!parsed.ok) return { kind: 'bad', line, problems: parsed.problems };
  const request = withFilePartner(parsed.request, opts.partner);
  const problems = [
    ...partnerProblems(parsed.request, request, opts),
    ...(opts.profile ? problemsWithProfile(request, opts.profile) : []),
    ...seen.clashes(request),
  ];
  if (problems.length > 0) return { kind: 'bad', line, problems };
  const key = customerKeyOf(request);
  seen.add(request, key, line);
  return { kind: 'good', line, key, request };
}

/** `import --partner`: the partner of the rows that name none. */
function withFilePartner(request: CustomerRequest, partner: string | undefined): CustomerRequest {
  return partner === undefined || request.partner !== undefined ? request : { ...request, partner };
}

/**
 * A partner the install does not serve (the row's, or the file's it was given), or (with
 * `--partner`) a row naming another partner than the file's.
 */
function partnerProblems(
  asWritten: CustomerRequest,
  request: CustomerRequest,
  opts: ReadCustomerCsvOptions,
): FieldProblem[] {
  const unknown = opts.partners ? unknownPartnerProblem(request, opts.partners) : undefined;
  if (unknown) return [unknown];
  const named = asWritten.partner;
  if (opts.partner === undefined || named === undefined || named === opts.partner) return [];
  const reason = `names partner "${named}", but the file is imported for "${opts.partner}" (--partner)`;
  return [{ field: 'partner', reason }];
}

/**
 * What the good rows so far claimed: a second row with the same customer key is the same
 * customer (the first is imported); a same tenant name (unique among the partner's children,
 * any case: docs/acronis-api.md §3.1) or login (unique across the platform, §6.1) under another key
 * would fail at create-tenant or create-user, so it is a bad row now.
 */
class SeenInFile {
  private readonly keys = new Map<string, number>();
  private readonly names = new Map<string, number>();
  private readonly logins = new Map<string, number>();

  clashes(request: CustomerRequest): FieldProblem[] {
    const key = customerKeyOf(request);
    const sameKey = this.keys.get(key);
    if (sameKey !== undefined) {
      const field = request.external_id ? 'external_id' : 'name';
      return [{ field, reason: `same customer as line ${sameKey} (key "${key}"); only line ${sameKey} is imported` }];
    }
    const problems: FieldProblem[] = [];
    const sameName = this.names.get(request.name.toLowerCase());
    if (sameName !== undefined)
      problems.push({
        field: 'name',
        reason: `same tenant name as line ${sameName}, another customer (tenant names are unique under the partner)`,
      });
    const sameLogin = this.logins.get(loginOf(request).toLowerCase());
    if (sameLogin !== undefined) {
      problems.push({
        field: request.login ? 'login' : 'email',
        reason: `same login as line ${sameLogin}, another customer (logins are unique across the platform; add a login column)`,
      });
    }
    return problems;
  }

  add(request: CustomerRequest, key: string, line: number): void {
    this.keys.set(key, line);
    this.names.set(request.name.toLowerCase(), line);
    this.logins.set(loginOf(request).toLowerCase(), line);
  }
}

function leadingLineBreaks(raw: string): string {
  return /^[\r\n]*/.exec(raw)?.[0] ?? '';
}

function countLineBreaks(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

/** A read or parse failure as the file's problem, in words (a missing file, an unclosed quote …); anything else as it is. */
export function asFileError(err: unknown, file: string, linesConsumed: number): unknown {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (err instanceof Error && !(err instanceof CsvError) && typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return new CsvFileError('unreadable', file, `cannot be read (${code}: ${err.message})`);
  }
  if (!(err instanceof CsvError)) return err;
  const after = linesConsumed + 1;
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return new CsvFileError(
        'malformed',
        file,
        `a quoted field that starts on or after line ${after} is never closed`,
        after,
      );
    case 'CSV_MAX_RECORD_SIZE':
      return new CsvFileError(
        'malformed',
        file,
        `the record starting on or after line ${after} is longer than ${MAX_RECORD_CHARS} characters (a quote left open?)`,
        after,
      );
    default:
      return new CsvFileError('malformed', file, `cannot be read as CSV near line ${after}: ${err.message}`, after);
  }
}
