import { customerKeyOf } from '../onboarding/customer-request.js';
import { csvRecords } from '../producers/action-csv.js';
import { normaliseHeader } from '../producers/csv-columns.js';
import { CsvFileError } from '../producers/csv-file-error.js';
import { MAX_CSV_ROWS } from '../producers/csv-rows.js';

export interface CustomersFile {
  /** Each row's customer key, as the import keyed it: the external id, else the normalised name. */
  keys: string[];
  /** Rows naming no customer, by line. */
  bad: { line: number; reason: string }[];
}

/**
 * The customers of a CSV the install imported (or any CSV with an `external_id` or `name` column),
 * keyed as the import keyed them: what an operator has in hand when Redis lost records and their
 * batches (a failover), for `reconcile --customers-from` to heal them (docs/reconcile.md).
 */
export async function readCustomersFile(file: string): Promise<CustomersFile> {
  const keys: string[] = [];
  const bad: CustomersFile['bad'] = [];
  let columns: string[] | undefined;
  for await (const { values, line } of csvRecords(file)) {
    if (!columns) {
      columns = values.map(normaliseHeader);
      if (!columns.includes('external_id') && !columns.includes('name'))
        throw new CsvFileError('bad-header', file, `line ${line}: the header has no external_id or name column`, line);
      continue;
    }
    if (keys.length + bad.length >= MAX_CSV_ROWS)
      throw new CsvFileError('too-many-rows', file, `has more than ${MAX_CSV_ROWS} rows; split it`, line);
    const cell = (name: string) => values[(columns as string[]).indexOf(name)] || undefined;
    const name = cell('name');
    const externalId = cell('external_id');
    if (!externalId && !name) bad.push({ line, reason: 'neither external_id nor name: no customer to look for' });
    else keys.push(customerKeyOf({ external_id: externalId, name: name ?? '' }));
  }
  return { keys: [...new Set(keys)], bad };
}
