import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { plannedSteps, type StepName } from '../onboarding/chain.js';
import { plural } from '../text/plural.js';
import type { FieldProblem } from '../onboarding/customer-request.js';
import type { BatchRecord, EnqueueOutcome, OnboardingStore } from '../workers/onboarding-store.js';
import { PartnerMismatchError } from '../workers/enqueue.js';
import type { ColumnMap } from './csv-columns.js';
import { CsvFileError } from './csv-file-error.js';
import { readCustomerCsv, type ReadCustomerCsvOptions } from './csv-rows.js';
import type { Producer } from './producer.js';
import type { ProducerPartners } from './partner-check.js';
import {
  addBadRow,
  countPartner,
  movedRows,
  PARTNER_CHECK_CHUNK,
  refusedByEnqueue,
  type CsvRow,
} from './csv-partners.js';
import { skippedWhileAway } from '../redis/while-away.js';

/**
 * `acronis-onboard import FILE.csv`: the whole file is read twice, never held in memory.
 *
 *   1. validate: every row judged, file-level problems found (not UTF-8, no header, a
 *      required column missing, a quote never closed, too many rows). Any of those throws a
 *      CsvFileError before anything is written to Redis, wherever it is in the file.
 *   2. enqueue the good rows, `chunkSize` per `producer.enqueue` call, as one batch
 *      (`source: csv`, `label`: the file's name) — or, with `dryRun`, look each customer up
 *      in the store and say what enqueueing would do, writing nothing.
 */

export const DEFAULT_CHUNK_SIZE = 100;
/** Bad rows kept in the report (all are counted). */
export const MAX_REPORTED_BAD_ROWS = 200;

export interface BadRow {
  line: number;
  problems: FieldProblem[];
}

export interface CsvValidation {
  file: string;
  columns: ColumnMap;
  /** Data rows, blank rows not counted. */
  rows: number;
  blankRows: number;
  goodRows: number;
  badRowCount: number;
  /** The first MAX_REPORTED_BAD_ROWS bad rows, in file order. */
  badRows: BadRow[];
}

/** What enqueueing did (or, in a dry run, would do) to one customer. */
export type PlannedOutcome = 'new' | 'already-onboarded' | 'already-queued' | 'retry';

export interface PlanEntry {
  line: number;
  key: string;
  name: string;
  outcome: PlannedOutcome;
  /** For `retry`: where and why the last run failed. */
  failedStep?: string;
  error?: string;
  /** The partner the row names (none: the default one). */
  partner?: string;
}

export interface CsvImportReport extends CsvValidation {
  label: string;
  dryRun: boolean;
  /** The steps each new (or retried) customer runs, from the profile. */
  steps: StepName[];
  /** Null in a dry run and when no row was good. */
  batch: BatchRecord | null;
  outcomes: Record<PlannedOutcome, number>;
  /** Customers another batch is onboarding right now: `--wait` follows them by their own records. */
  alreadyQueued: string[];
  /** With several partners: the rows queued (or, in a dry run, planned) per partner. */
  byPartner?: Record<string, number>;
}

export interface ImportCsvOptions {
  producer: Pick<Producer, 'enqueue' | 'profile' | 'store' | 'partnerNames' | 'defaultPartner'>;
  path: string;
  /** `--partner`: the partner of every row that names none (docs/csv.md "Partners"). */
  partner?: string;
  dryRun?: boolean;
  chunkSize?: number;
  maxRows?: number;
  /** Progress for a caller that prints: the validation before any enqueueing, then each chunk. */
  on?: {
    validated?(validation: CsvValidation): void;
    planned?(entries: readonly PlanEntry[]): void;
  };
}

export async function importCsv(opts: ImportCsvOptions): Promise<CsvImportReport> {
  const { producer, path } = opts;
  const partners = { names: producer.partnerNames, defaultName: producer.defaultPartner };
  const readOptions: ReadCustomerCsvOptions = {
    profile: producer.profile,
    partners,
    ...(opts.partner !== undefined ? { partner: opts.partner.trim().toLowerCase() } : {}),
    ...(opts.maxRows ? { maxRows: opts.maxRows } : {}),
  };
  const before = await assertReadableFile(path);
  const moved = new Set<number>();
  const validation = await validateCsv(path, { ...readOptions, store: producer.store, moved });
  opts.on?.validated?.(validation);

  const report = emptyReport(validation, opts, partners);
  if (validation.goodRows === 0) return report;

  // The second pass must see the file the first one judged.
  const now = await assertReadableFile(path);
  if (now.size !== before.size || now.mtimeMs !== before.mtimeMs) {
    throw new CsvFileError('changed', path, 'changed while it was being imported; nothing was enqueued');
  }

  const chunkSize = opts.chunkSize ?? DEFAULT_CHUNK_SIZE;
  let chunk: CsvRow[] = [];
  let enqueued = 0;
  const flush = async () => {
    if (chunk.length === 0) return;
    const entries = opts.dryRun
      ? await planChunk(producer, chunk)
      : await enqueueChunk(producer, report, partners, chunk);
    for (const entry of entries) {
      report.outcomes[entry.outcome]++;
      if (entry.outcome === 'already-queued' && !opts.dryRun) report.alreadyQueued.push(entry.key);
      if (report.byPartner) countPartner(report.byPartner, entry, partners);
    }
    enqueued += chunk.length;
    opts.on?.planned?.(entries);
    chunk = [];
  };
  for await (const event of readCustomerCsv(path, readOptions)) {
    if (event.kind !== 'good' || moved.has(event.line)) continue;
    chunk.push(event);
    if (chunk.length >= chunkSize) await flush();
  }
  await flush();
  await recordLateBadRows(producer, report, validation);
  if (enqueued !== validation.goodRows) {
    throw new CsvFileError(
      'changed',
      path,
      `changed while it was being imported: ${plural(validation.goodRows, 'good row')} at first, ${enqueued} the second time`,
    );
  }
  // The counts after the last chunk; with Redis gone since, the last enqueue's are what is known.
  if (report.batch) {
    const id = report.batch.id;
    report.batch = (await skippedWhileAway(() => producer.store.getBatch(id))) ?? report.batch;
  }
  return report;
}

export interface ValidateCsvOptions extends ReadCustomerCsvOptions {
  /** With several partners: the records, to find the rows whose customer another partner has (read only). */
  store?: Pick<OnboardingStore, 'getCustomers'>;
  /** Filled with the lines found bad that way, for the second pass to leave out. */
  moved?: Set<number>;
}

/** The report before the second pass: nothing queued yet. */
function emptyReport(validation: CsvValidation, opts: ImportCsvOptions, partners: ProducerPartners): CsvImportReport {
  return {
    ...validation,
    // Its own list: rows found bad while queuing are added to the report, not to the validation.
    badRows: [...validation.badRows],
    label: basename(opts.path),
    dryRun: opts.dryRun === true,
    steps: plannedSteps(opts.producer.profile),
    batch: null,
    outcomes: { new: 0, 'already-onboarded': 0, 'already-queued': 0, retry: 0 },
    alreadyQueued: [],
    ...(partners.names.length > 1 ? { byPartner: {} } : {}),
  };
}

/** The first pass: every row judged, nothing written. Throws CsvFileError for a file that cannot be imported. */
export async function validateCsv(path: string, opts: ValidateCsvOptions = {}): Promise<CsvValidation> {
  const validation: CsvValidation = {
    file: path,
    columns: { fields: [], unknown: [] },
    rows: 0,
    blankRows: 0,
    goodRows: 0,
    badRowCount: 0,
    badRows: [],
  };
  const checkMoved =
    opts.store && opts.partners && opts.partners.names.length > 1 ? movedCheck(validation, opts) : undefined;
  for await (const event of readCustomerCsv(path, opts)) {
    switch (event.kind) {
      case 'header':
        validation.columns = event.columns;
        break;
      case 'blank':
        validation.blankRows++;
        break;
      case 'good':
        validation.rows++;
        validation.goodRows++;
        await checkMoved?.add(event);
        break;
      case 'bad':
        validation.rows++;
        validation.badRowCount++;
        if (validation.badRows.length < MAX_REPORTED_BAD_ROWS)
          validation.badRows.push({ line: event.line, problems: event.problems });
        break;
    }
  }
  await checkMoved?.flush();
  if (validation.rows === 0) {
    throw new CsvFileError('no-rows', path, 'has a header but no rows: nothing to import');
  }
  return validation;
}

/** Good rows gathered and checked against the records a chunk at a time; the moved ones become bad rows. */
function movedCheck(validation: CsvValidation, opts: ValidateCsvOptions) {
  const { store, partners, moved } = opts as Required<Pick<ValidateCsvOptions, 'store' | 'partners'>> &
    ValidateCsvOptions;
  let rows: CsvRow[] = [];
  const flush = async () => {
    const bad = await movedRows(store, partners, rows);
    rows = [];
    for (const row of bad) {
      addBadRow(validation, row, MAX_REPORTED_BAD_ROWS);
      moved?.add(row.line);
    }
  };
  return {
    async add(row: CsvRow) {
      rows.push(row);
      if (rows.length >= PARTNER_CHECK_CHUNK) await flush();
    },
    flush,
  };
}

/**
 * Queues a chunk's rows, but those whose customer another partner has by now (a bad row each,
 * counted in the report): looked up first, and refused by the enqueue itself should one slip
 * in between (it then writes nothing, so the rest is queued again without it).
 */
async function enqueueChunk(
  producer: Pick<Producer, 'enqueue' | 'store'>,
  report: CsvImportReport,
  partners: ProducerPartners,
  chunk: readonly CsvRow[],
): Promise<PlanEntry[]> {
  let rows = leaveOut(report, chunk, await movedRows(producer.store, partners, chunk));
  for (let attempt = 0; rows.length > 0; attempt++) {
    try {
      return await enqueueRows(producer, report, rows);
    } catch (err) {
      if (!(err instanceof PartnerMismatchError) || attempt > 0) throw err;
      rows = leaveOut(report, rows, refusedByEnqueue(err, rows));
    }
  }
  return [];
}

function leaveOut(report: CsvImportReport, rows: readonly CsvRow[], bad: readonly BadRow[]) {
  for (const row of bad) addBadRow(report, row, MAX_REPORTED_BAD_ROWS);
  const lines = new Set(bad.map((b) => b.line));
  return rows.filter((r) => !lines.has(r.line));
}

async function enqueueRows(
  producer: Pick<Producer, 'enqueue'>,
  report: CsvImportReport,
  rows: readonly CsvRow[],
): Promise<PlanEntry[]> {
  const result = await producer.enqueue(
    // The batch page shows the file's rows and its bad ones from the moment the batch exists.
    report.batch ? { id: report.batch.id } : { source: 'csv', label: report.label, csv: report },
    rows.map((c) => c.request),
  );
  report.batch = result.batch;
  return result.customers.map((customer, i) => ({
    line: rows[i]?.line ?? 0,
    key: customer.key,
    name: customer.name,
    outcome: PLANNED[customer.outcome],
    ...(rows[i]?.request.partner ? { partner: rows[i]?.request.partner } : {}),
  }));
}

/** Rows found bad after the batch was made: the batch page's count and list follow. */
async function recordLateBadRows(
  producer: Pick<Producer, 'store'>,
  report: CsvImportReport,
  validation: CsvValidation,
): Promise<void> {
  if (!report.batch || report.badRowCount === validation.badRowCount) return;
  const id = report.batch.id;
  await skippedWhileAway(() => producer.store.recordCsvRows(id, report));
}

const PLANNED: Record<EnqueueOutcome, PlannedOutcome> = {
  queued: 'new',
  replaced: 'retry',
  'already-onboarded': 'already-onboarded',
  'already-queued': 'already-queued',
};

/** What `enqueueCustomers` would do with each customer, from its record in the store (read only). */
async function planChunk(producer: Pick<Producer, 'store'>, chunk: readonly CsvRow[]): Promise<PlanEntry[]> {
  const records = await producer.store.getCustomers(chunk.map((c) => c.key));
  return chunk.map((c, i) => {
    const record = records[i];
    const entry: PlanEntry = {
      line: c.line,
      key: c.key,
      name: c.request.name,
      outcome: 'new',
      ...(c.request.partner ? { partner: c.request.partner } : {}),
    };
    if (!record) return entry;
    if (record.state === 'done') return { ...entry, outcome: 'already-onboarded' };
    if (record.state === 'failed') {
      return {
        ...entry,
        outcome: 'retry',
        ...(record.failedStep ? { failedStep: record.failedStep } : {}),
        ...(record.error ? { error: record.error } : {}),
      };
    }
    return { ...entry, outcome: 'already-queued' };
  });
}

/** The file exists and is a regular file (checked before anything else is opened). */
export async function assertReadableFile(path: string) {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new CsvFileError('unreadable', path, 'is not a file');
    await access(path, constants.R_OK);
    return s;
  } catch (err) {
    if (err instanceof CsvFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new CsvFileError(
      'unreadable',
      path,
      code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? String(err)})`,
    );
  }
}
