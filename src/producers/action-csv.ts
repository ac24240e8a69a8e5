import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream';
import { parse } from 'csv-parse';
import { ACTION_NAMES, actionNameSchema, type ActionName, type ContactChange } from '../lifecycle/action.js';
import type { CustomerQuotas } from '../onboarding/customer-request.js';
import { parseQuotaCells } from '../onboarding/own-quotas.js';
import { normaliseHeader, quotaColumnItem } from './csv-columns.js';
import { utf8Guard } from './csv-encoding.js';
import { CsvFileError } from './csv-file-error.js';
import { MAX_CSV_ROWS } from './csv-rows.js';

/**
 * A CSV of lifecycle actions (docs/lifecycle.md "From a CSV"): one customer a row, named by its
 * `external_id` (or `customer`, or `name`), and the action in an `action` column or given for
 * the whole file (`import --action`, or the command's own name). A contact change takes
 * `email`, `first_name`, `last_name`, `phone`; a change may name an `edition` and per-customer
 * quotas in `quota <item>` columns, as the onboarding CSV does. Headers match as the onboarding
 * CSV's do (case, spaces, hyphens).
 */
export const ACTION_CSV_COLUMNS = [
  'action',
  'external_id',
  'customer',
  'name',
  'edition',
  'email',
  'first_name',
  'last_name',
  'phone',
] as const;
type Column = (typeof ACTION_CSV_COLUMNS)[number];
/** A `quota <item>` column: its item. */
type QuotaColumn = { quota: string };

export interface ActionRow {
  line: number;
  customer: string;
  action: ActionName;
  edition?: string;
  contact?: ContactChange;
  quotas?: CustomerQuotas;
  /** Items whose quota cell says `profile`: their own quota goes, the profile's applies. */
  resetQuotas?: string[];
}

export interface BadActionRow {
  line: number;
  problems: { field: string; reason: string }[];
}

export interface ActionCsv {
  rows: ActionRow[];
  bad: BadActionRow[];
}

/** Whether the file's header has an `action` column: `import` hands such a file to the lifecycle. */
export async function hasActionColumn(file: string): Promise<boolean> {
  for await (const record of csvRecords(file)) return record.values.some((h) => normaliseHeader(h) === 'action');
  return false;
}

/** The rows of a CSV file (UTF-8 checked, BOM dropped, cells trimmed, blank lines skipped) with their line numbers. */
export async function* csvRecords(file: string): AsyncGenerator<{ values: string[]; line: number }> {
  // pipeline(), not pipe(): a missing or binary file's error must reach the iteration, not crash the process.
  const parser = pipeline(
    createReadStream(file),
    utf8Guard(file),
    parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true, trim: true }),
    () => undefined,
  );
  for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>)
    yield { values: record, line: info.lines };
}

/** Reads and judges every row; `action` given for the whole file wins over a missing column, a row's own column over it. */
export async function readActionCsv(file: string, wholeFile?: ActionName): Promise<ActionCsv> {
  const rows: ActionRow[] = [];
  const bad: BadActionRow[] = [];
  let columns: (Column | QuotaColumn | null)[] | undefined;
  let count = 0;
  for await (const { values, line } of csvRecords(file)) {
    if (!columns) {
      columns = values.map((h) => {
        const name = normaliseHeader(h);
        if ((ACTION_CSV_COLUMNS as readonly string[]).includes(name)) return name as Column;
        const item = quotaColumnItem(name);
        return item ? { quota: item } : null;
      });
      if (!columns.some((c) => c === 'external_id' || c === 'customer' || c === 'name'))
        throw new CsvFileError(
          'bad-header',
          file,
          `line ${line}: the header has no external_id, customer or name column to name each customer by`,
          line,
        );
      if (!wholeFile && !columns.includes('action'))
        throw new CsvFileError(
          'bad-header',
          file,
          `line ${line}: the header has no action column (or give --action)`,
          line,
        );
      continue;
    }
    if (++count > MAX_CSV_ROWS)
      throw new CsvFileError('too-many-rows', file, `has more than ${MAX_CSV_ROWS} rows; split it`, line);
    const cell = (name: Column) => {
      const index = (columns as (Column | QuotaColumn | null)[]).indexOf(name);
      const value = index < 0 ? '' : (values[index] ?? '');
      return value === '' ? undefined : value;
    };
    // An empty quota cell means "no quota of its own" for this customer, as in the onboarding CSV.
    const quotaCells: Record<string, string> = {};
    columns.forEach((c, i) => {
      if (c !== null && typeof c === 'object' && values[i]) quotaCells[c.quota] = values[i];
    });
    const judged = judgeRow(line, cell, wholeFile, quotaCells);
    if ('problems' in judged) bad.push(judged);
    else rows.push(judged);
  }
  return { rows, bad };
}

function judgeRow(
  line: number,
  cell: (name: Column) => string | undefined,
  wholeFile: ActionName | undefined,
  quotaCells: Record<string, string>,
): ActionRow | BadActionRow {
  const problems: { field: string; reason: string }[] = [];
  const customer = cell('external_id') ?? cell('customer') ?? cell('name');
  if (!customer) problems.push({ field: 'customer', reason: 'empty: name the customer by external_id or name' });
  const given = cell('action')?.toLowerCase() ?? wholeFile;
  const parsed = actionNameSchema.safeParse(given);
  if (!parsed.success) problems.push({ field: 'action', reason: `must be one of ${ACTION_NAMES.join(', ')}` });
  else if (wholeFile && cell('action') && parsed.data !== wholeFile)
    problems.push({ field: 'action', reason: `is ${parsed.data}, but the file is imported for ${wholeFile}` });
  const contact: ContactChange = {
    ...(cell('email') ? { email: cell('email') } : {}),
    ...(cell('first_name') ? { first_name: cell('first_name') } : {}),
    ...(cell('last_name') ? { last_name: cell('last_name') } : {}),
    ...(cell('phone') ? { phone: cell('phone') } : {}),
  };
  if (contact.email && !/^\S+@\S+$/.test(contact.email))
    problems.push({ field: 'email', reason: 'must be an e-mail address' });
  if (parsed.success && parsed.data === 'contact' && Object.keys(contact).length === 0)
    problems.push({ field: 'email', reason: 'a contact change needs email, first_name, last_name or phone' });
  const quotas = rowQuotas(quotaCells, parsed.success ? parsed.data : undefined, problems);
  if (problems.length > 0 || !parsed.success || !customer) return { line, problems };
  const edition = cell('edition');
  return {
    line,
    customer,
    action: parsed.data,
    ...(edition ? { edition } : {}),
    ...(parsed.data === 'contact' ? { contact } : {}),
    ...quotas,
  };
}

/**
 * A row's `quota <item>` cells: whole numbers, or `profile` to hand the item back to the profile's
 * quota; for a change only; each problem named `quotas.<item>`.
 */
function rowQuotas(
  cells: Record<string, string>,
  action: ActionName | undefined,
  problems: { field: string; reason: string }[],
): Pick<ActionRow, 'quotas' | 'resetQuotas'> {
  const items = Object.keys(cells);
  if (items.length === 0) return {};
  if (action !== undefined && action !== 'change') {
    for (const item of items)
      problems.push({ field: `quotas.${item}`, reason: `applies to change only, not ${action}` });
    return {};
  }
  const parsed = parseQuotaCells(cells);
  if (parsed.ok) return parsed.named;
  for (const p of parsed.problems) problems.push({ field: `quotas.${p.item}`, reason: p.reason });
  return {};
}
