import { z } from 'zod';
import { csvRecords } from '../producers/action-csv.js';
import { normaliseHeader } from '../producers/csv-columns.js';
import { CsvFileError } from '../producers/csv-file-error.js';
import { asFileError, MAX_CSV_ROWS } from '../producers/csv-rows.js';

/**
 * A CSV of tenants to adopt (docs/adopt.md "From a CSV"): one tenant a row, named by `tenant_id`
 * or by its name (`tenant`, or `name`), and the external id it becomes (`external_id`, or
 * `customer_id`); an optional `profile` (a profile file) is what `--apply-profile` applies to that
 * customer. Headers match as the onboarding CSV's do (case, spaces, hyphens); other columns are
 * ignored.
 */
export const ADOPT_CSV_COLUMNS = ['tenant_id', 'tenant', 'name', 'external_id', 'customer_id', 'profile'] as const;
type Column = (typeof ADOPT_CSV_COLUMNS)[number];

/** Control characters and the bidi overrides: an id or name holding them is refused as the onboarding refuses it. */
const UNPRINTABLE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const externalIdSchema = z
  .string()
  .max(200, 'is longer than 200 characters')
  .refine((v) => !UNPRINTABLE.test(v), 'must be one line of printable text');

/** A tenant named by id or by name, and the external id it becomes. */
export interface AdoptRow {
  line?: number;
  tenantId?: string;
  tenantName?: string;
  externalId: string;
  /** A profile file for `--apply-profile`, as the row names it. */
  profile?: string;
}

export interface BadAdoptRow {
  line: number;
  problems: { field: string; reason: string }[];
}

export async function readAdoptCsv(file: string): Promise<{ rows: AdoptRow[]; bad: BadAdoptRow[] }> {
  const read: { rows: AdoptRow[]; bad: BadAdoptRow[]; line: number } = { rows: [], bad: [], line: 0 };
  try {
    await readRows(file, read);
  } catch (err) {
    throw asFileError(err, file, read.line);
  }
  return { rows: read.rows, bad: read.bad };
}

async function readRows(file: string, read: { rows: AdoptRow[]; bad: BadAdoptRow[]; line: number }): Promise<void> {
  const { rows, bad } = read;
  let columns: (Column | null)[] | undefined;
  let count = 0;
  for await (const { values, line } of csvRecords(file)) {
    read.line = line;
    if (!columns) {
      columns = headerOf(file, values, line);
      continue;
    }
    if (++count > MAX_CSV_ROWS)
      throw new CsvFileError('too-many-rows', file, `has more than ${MAX_CSV_ROWS} rows; split it`, line);
    const cell = (name: Column) => {
      const index = (columns as (Column | null)[]).indexOf(name);
      const value = index < 0 ? '' : (values[index] ?? '');
      return value === '' ? undefined : value;
    };
    const judged = judgeRow(line, cell);
    if ('problems' in judged) bad.push(judged);
    else rows.push(judged);
  }
  if (!columns) throw new CsvFileError('no-header', file, 'is empty: it needs a header line');
}

function headerOf(file: string, values: string[], line: number): (Column | null)[] {
  const columns = values.map((h) => {
    const name = normaliseHeader(h);
    return (ADOPT_CSV_COLUMNS as readonly string[]).includes(name) ? (name as Column) : null;
  });
  const missing = (reason: string) => new CsvFileError('bad-header', file, `line ${line}: ${reason}`, line);
  if (!columns.some((c) => c === 'tenant_id' || c === 'tenant' || c === 'name'))
    throw missing('the header has no tenant_id, tenant or name column to name each tenant by');
  if (!columns.some((c) => c === 'external_id' || c === 'customer_id'))
    throw missing('the header has no external_id (or customer_id) column: the id each tenant becomes');
  return columns;
}

function judgeRow(line: number, cell: (name: Column) => string | undefined): AdoptRow | BadAdoptRow {
  const problems: { field: string; reason: string }[] = [];
  const tenantId = cell('tenant_id');
  const tenantName = cell('tenant') ?? cell('name');
  if (!tenantId && !tenantName)
    problems.push({ field: 'tenant', reason: 'empty: name the tenant by tenant_id or name' });
  if (tenantId && !/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(tenantId))
    problems.push({ field: 'tenant_id', reason: 'must be a tenant id (a UUID)' });
  const externalId = cell('external_id') ?? cell('customer_id');
  if (!externalId) problems.push({ field: 'external_id', reason: 'empty: the id the tenant is to carry is required' });
  const checked = externalId === undefined ? undefined : externalIdSchema.safeParse(externalId);
  if (checked && !checked.success)
    problems.push({ field: 'external_id', reason: checked.error.issues[0]?.message ?? 'unusable' });
  if (problems.length > 0 || !externalId) return { line, problems };
  const profile = cell('profile');
  return {
    line,
    externalId,
    ...(tenantId ? { tenantId: tenantId.toLowerCase() } : {}),
    ...(!tenantId && tenantName ? { tenantName } : {}),
    ...(profile ? { profile } : {}),
  };
}
