import { Option, type Command } from 'commander';
import { ACTION_NAMES, type ActionName } from '../lifecycle/action.js';
import { hasActionColumn } from '../producers/action-csv.js';
import { runActionImport } from './lifecycle-command.js';
import { openProducer } from '../app/producer.js';
import type { Config } from '../config.js';
import { createLogger } from '../logger.js';
import { plannedSteps } from '../onboarding/chain.js';
import { plural } from '../text/plural.js';
import { CsvFileError } from '../producers/csv-file-error.js';
import {
  assertReadableFile,
  importCsv,
  MAX_REPORTED_BAD_ROWS,
  type CsvImportReport,
  type CsvValidation,
  type PlanEntry,
} from '../producers/csv-import.js';
import type { Producer } from '../producers/producer.js';
import { UnknownPartnerError } from '../partners/partner-set.js';
import type { BatchRecord, CustomerRecord, CustomerState } from '../workers/onboarding-store.js';
import type { OnboardingQueue } from '../workers/queue.js';
import { skippedWhileAway, untilRedisAnswers } from '../redis/while-away.js';
import { followBatch, type FollowedBatch } from './batch-progress.js';
import { batchLine } from './status-command.js';
import { withApp } from './with-app.js';
import { exitCodeForSignal, handleStopSignals, type StoppedError } from './stop-signal.js';
import type { AvailabilityReport } from '../redis/availability.js';
import { terminalSafe, tty } from './terminal-text.js';
import { unconfirmedEmailLines, unconfirmedEmails } from './unconfirmed-emails.js';

/**
 * `acronis-onboard import FILE.csv [--dry-run] [--wait] [--profile FILE]` (docs/csv.md).
 * What happens and the report go to stdout; warnings and bad rows to stderr.
 *
 * Exit codes: 0 every row good and (with --wait) every customer onboarded; 1 some rows bad,
 * or (with --wait) some customers failed; 2 the file or the configuration is unusable
 * (nothing was enqueued); 130 (SIGINT) or 143 (SIGTERM) --wait interrupted (the batch goes on).
 * --wait follows the batch through a Redis restart (docs/resilience.md).
 */
export function registerImportCommand(program: Command): void {
  program
    .command('import <file>')
    .description('validate a CSV of customers, report bad rows by line, enqueue the good ones as one batch')
    .option('--dry-run', 'validate and show what would happen to each customer; enqueue nothing')
    .option('--wait', 'show progress until the batch ends, then a summary with the failures')
    .option('--profile <file>', 'onboarding profile JSON for this import (overrides ONBOARDING_PROFILE)')
    .option('--partner <name>', 'the partner of every row with no partner cell (docs/csv.md "Partners")')
    .addOption(
      new Option('--action <action>', 'the file holds customers to act on, not to onboard (docs/lifecycle.md)').choices(
        ACTION_NAMES,
      ),
    )
    .option('--yes-delete <count>', 'with offboard rows: the number of customers to delete, typed')
    .action(async (file: string, opts: ImportOptions & { action?: ActionName; yesDelete?: string }) => {
      // A file of lifecycle actions (an action column, or --action) goes to the lifecycle (docs/lifecycle.md).
      if (opts.action || (await hasActionColumn(file).catch(() => false))) {
        if (opts.partner !== undefined) {
          // An action finds its customer's partner in the record; a file cannot choose it.
          console.error('acronis-onboard import: --partner is for files of customers to onboard, not of actions');
          process.exitCode = 2;
          return;
        }
        process.exitCode = await runActionImport(file, opts.action, opts);
        return;
      }
      process.exitCode = await runImport(file, opts);
    });
}

export interface ImportOptions {
  dryRun?: boolean;
  wait?: boolean;
  profile?: string;
  /** The partner of every row that names none (docs/csv.md "Partners"). */
  partner?: string;
  /** Print the `status`/`results` commands that follow the batch (not in the demo, whose data goes with it). */
  hints?: boolean;
  /** --wait: stops following (the batch goes on): SIGINT/SIGTERM (src/cli/stop-signal.ts). */
  stop?: AbortSignal;
  /** --wait: true while Redis is away, for the progress bar. */
  redisAway?: () => boolean;
  /** --wait: every data centre's step queue, whose workers are counted (default: the producer's queue). */
  queues?: readonly OnboardingQueue[];
}

/** An outage while following a batch: one line to stderr when Redis goes, one when it is back. */
const terminalReport: AvailabilityReport = {
  down: (message) => console.error(tty`warning: ${message}`),
  up: (message) => console.error(tty`${message}`),
  error: (what, err) => console.error(tty`${what}: ${err.message}`),
};

/**
 * What import asks the API before it enqueues (the partner, the offer) is asked again this long
 * while the answer is transient (a 5xx, a 429, a timeout): a blip does not cost a re-run.
 */
const API_RETRY_MS = 30_000;

/** Failed customers listed in the summary (all are counted). */
const MAX_LISTED_FAILURES = 200;

async function runImport(file: string, opts: ImportOptions): Promise<number> {
  try {
    await assertReadableFile(file);
  } catch (err) {
    return fileProblem(err);
  }
  // Logs go to stderr: stdout carries the report.
  const logger = (c: Config) =>
    createLogger({ level: c.LOG_LEVEL === 'info' ? 'warn' : c.LOG_LEVEL, destination: process.stderr, name: 'import' });
  // Only --wait waits for Redis; without it the import is a short command.
  return withApp({ logger, ...(opts.wait ? { report: terminalReport } : {}) }, async (app) => {
    const unknown = unknownPartnerOption(opts.partner, app.partnerNames);
    if (unknown) {
      console.error(tty`acronis-onboard import: --partner: ${unknown}`);
      console.error('nothing was enqueued');
      return 2;
    }
    const producer = await openProducer(app, {
      retryForMs: API_RETRY_MS,
      ...(opts.profile ? { profilePath: opts.profile } : {}),
    });
    const stop = opts.wait ? handleStopSignals('import', app.config.SHUTDOWN_TIMEOUT_MS) : undefined;
    return importAndReport(producer, file, {
      ...opts,
      ...(stop ? { stop } : {}),
      redisAway: () => app.availability.isDown,
      queues: app.queues,
    });
  });
}

/** Imports `file` through `producer` and prints what `import` prints; returns the exit code. */
export async function importAndReport(producer: Producer, file: string, opts: ImportOptions): Promise<number> {
  let report: CsvImportReport;
  let listed = new Set<number>();
  try {
    report = await importCsv({
      producer,
      path: file,
      dryRun: opts.dryRun === true,
      ...(opts.partner !== undefined ? { partner: opts.partner.trim().toLowerCase() } : {}),
      on: {
        validated: (v) => {
          printWarnings(v);
          printBadRows(v);
          listed = new Set(v.badRows.map((b) => b.line));
          if (opts.dryRun) printPlanHeader(producer, v);
        },
        planned: opts.dryRun ? planPrinter(producer) : undefined,
      },
    });
  } catch (err) {
    return fileProblem(err);
  }
  printLateBadRows(report, listed);
  if (opts.dryRun) return printDryRunSummary(report);
  if (!report.batch) {
    console.log(tty`${report.label}: no good row to import (${report.badRowCount} bad); nothing was enqueued`);
    return 1;
  }
  printEnqueued(report, report.batch, producer, opts.hints !== false);
  if (!opts.wait) return report.badRowCount > 0 ? 1 : 0;
  return await waitForBatch(producer, report, report.batch, opts);
}

/** Why `--partner` cannot be used: a partner the install does not serve (checked before the API is asked). */
function unknownPartnerOption(partner: string | undefined, known: readonly string[]): string | undefined {
  if (partner === undefined || known.includes(partner.trim().toLowerCase())) return undefined;
  return new UnknownPartnerError(partner, known).message;
}

function fileProblem(err: unknown): number {
  if (!(err instanceof CsvFileError)) throw err;
  console.error(`acronis-onboard import: ${terminalSafe(err.message)}`);
  if (err.problem !== 'changed') console.error('nothing was enqueued');
  return 2;
}

function printWarnings(v: CsvValidation): void {
  for (const u of v.columns.unknown) {
    const name = u.header.trim() === '' ? '(no name)' : JSON.stringify(u.header.trim());
    console.error(tty`warning: column ${u.column} ${name} is not a customer field; it is ignored`);
  }
}

function printBadRows(v: CsvValidation): void {
  if (v.badRowCount === 0) return;
  console.error(`${plural(v.badRowCount, 'bad row')}, not imported:`);
  for (const row of v.badRows) {
    for (const p of row.problems)
      console.error(
        p.field === '(row)' ? tty`line ${row.line}: ${p.reason}` : tty`line ${row.line}, ${p.field}: ${p.reason}`,
      );
  }
  if (v.badRowCount > v.badRows.length)
    console.error(
      `… and ${plural(v.badRowCount - v.badRows.length, 'more bad row')} (the first ${MAX_REPORTED_BAD_ROWS} are listed)`,
    );
}

/** Rows found bad while queuing (their customer went to another partner meanwhile), after the others. */
function printLateBadRows(r: CsvImportReport, listed: ReadonlySet<number>): void {
  for (const row of r.badRows.filter((b) => !listed.has(b.line)))
    for (const p of row.problems) console.error(tty`line ${row.line}, ${p.field}: ${p.reason}`);
}

function printPlanHeader(producer: Producer, v: CsvValidation): void {
  console.log(
    tty`dry run: nothing is enqueued. ${plural(v.rows, 'row')}: ${v.goodRows} good, ${v.badRowCount} bad. Profile: ${producer.profileSource}`,
  );
  console.log(`each new customer runs: ${plannedSteps(producer.profile).join(' → ')}`);
}

const OUTCOME_TEXT: Record<PlanEntry['outcome'], string> = {
  new: 'new',
  'already-onboarded': 'already onboarded',
  'already-queued': 'already queued',
  retry: 'retry',
};

/** The plan of each row; with several partners, the partner it goes to. */
function planPrinter(producer: Producer) {
  const several = producer.partnerNames.length > 1;
  return (entries: readonly PlanEntry[]): void => {
    for (const e of entries) {
      const what =
        e.outcome === 'retry'
          ? tty`retry (failed at ${e.failedStep ?? '?'}${e.error ? `: ${e.error}` : ''})`
          : OUTCOME_TEXT[e.outcome];
      const partner = several ? `  partner ${e.partner ?? producer.defaultPartner}` : '';
      console.log(`line ${e.line}  ${what}${partner}  ${tty`${e.key}  ${JSON.stringify(e.name)}`}`);
    }
  };
}

function printDryRunSummary(r: CsvImportReport): number {
  console.log(
    `would enqueue: new ${r.outcomes.new}  retry ${r.outcomes.retry}  already onboarded ${r.outcomes['already-onboarded']}` +
      `  already queued ${r.outcomes['already-queued']}  bad rows ${r.badRowCount}`,
  );
  printByPartner('per partner', r);
  return r.badRowCount > 0 ? 1 : 0;
}

/** "per partner: dc1 12, dc2 13", with several partners only (the rows that are not bad). */
function printByPartner(title: string, r: CsvImportReport): void {
  if (!r.byPartner) return;
  const counts = Object.entries(r.byPartner).sort(([a], [b]) => a.localeCompare(b));
  console.log(`${title}: ${counts.map(([name, n]) => `${name} ${n}`).join(', ') || 'none'}`);
}

function printEnqueued(r: CsvImportReport, batch: BatchRecord, producer: Producer, hints: boolean): void {
  console.log(
    tty`batch ${batch.id}  (${r.label}: ${plural(r.rows, 'row')}, ${r.goodRows} good, ${r.badRowCount} bad; profile ${producer.profileSource})`,
  );
  console.log(
    `queued ${r.outcomes.new}  retried ${r.outcomes.retry}  already onboarded ${r.outcomes['already-onboarded']}` +
      `  already queued ${r.outcomes['already-queued']}  bad rows ${r.badRowCount}`,
  );
  printByPartner('per partner', r);
  if (!hints) return;
  console.log(`follow it:    acronis-onboard status ${batch.id}`);
  console.log(`results:      acronis-onboard results ${batch.id}`);
}

async function waitForBatch(
  producer: Producer,
  report: CsvImportReport,
  batch: BatchRecord,
  opts: ImportOptions,
): Promise<number> {
  // Redis may go at any moment from here on: the outage is told once, and nothing below ends for it.
  const queues = opts.queues ?? [producer.queue];
  // A `work` process works every data centre's queue (docs/partners.md): a worker on any one is a running worker.
  const workers = await skippedWhileAway(async () => {
    const counts = await Promise.all(queues.map((queue) => queue.getWorkersCount()));
    return counts.reduce((sum, n) => sum + n, 0);
  });
  if (workers === 0 && !batch.ended) {
    console.error(
      'warning: no worker is connected to the queue; start one with `acronis-onboard work` (waiting anyway)',
    );
  }
  // Without a stop signal of the caller's, following ends only with the batch.
  const stop = opts.stop ?? new AbortController().signal;
  const result = await followBatch({
    store: producer.store,
    batchId: batch.id,
    alsoWaitFor: report.alreadyQueued,
    out: process.stdout,
    signal: stop,
    ...(opts.redisAway ? { redisAway: opts.redisAway } : {}),
  });
  const facts = result.interrupted ? undefined : await summaryFacts(producer, result, stop);
  if (result.interrupted || !facts) {
    console.log(`stopped following; the batch goes on: acronis-onboard status ${batch.id}`);
    return exitCodeForSignal((stop.reason as StoppedError).signal);
  }
  return printSummary(report, result, facts);
}

/** What the summary lists beyond the counts. */
interface SummaryFacts {
  customers: Awaited<ReturnType<Producer['store']['batchCustomers']>>;
  /** The records of the other batches' customers that were not onboarded, in `othersNotDone` order. */
  othersNotDone: { key: string; state: CustomerState | undefined; record: CustomerRecord | undefined }[];
}

/** Read once the batch has ended, waiting out an outage like the following; undefined when stopped meanwhile. */
async function summaryFacts(
  producer: Producer,
  result: FollowedBatch,
  stop: AbortSignal,
): Promise<SummaryFacts | undefined> {
  const othersNotDone = result.others.filter((o) => o.state !== 'done');
  const listed = othersNotDone.slice(0, MAX_LISTED_FAILURES);
  const read = async (): Promise<SummaryFacts> => {
    const [customers, records] = await Promise.all([
      producer.store.batchCustomers(result.batch.id),
      producer.store.getCustomers(listed.map((o) => o.key)),
    ]);
    return { customers, othersNotDone: othersNotDone.map((o, i) => ({ ...o, record: records[i] })) };
  };
  return untilRedisAnswers(read, { signal: stop });
}

function printSummary(report: CsvImportReport, result: FollowedBatch, facts: SummaryFacts): number {
  const { batch } = result;
  const { customers, othersNotDone } = facts;
  console.log(batchLine(batch));
  const failed = customers.filter((c) => c.record?.state === 'failed' && c.record.batchId === batch.id);
  if (failed.length > 0 || othersNotDone.length > 0)
    console.log(`failed customers (${failed.length + othersNotDone.length}):`);
  for (const c of failed.slice(0, MAX_LISTED_FAILURES)) {
    console.log(
      tty`  ${c.key}  ${JSON.stringify(c.record?.name ?? '')}  at ${c.record?.failedStep ?? '?'}: ${c.record?.error ?? 'no reason recorded'}`,
    );
  }
  if (failed.length > MAX_LISTED_FAILURES)
    console.log(`  … and ${failed.length - MAX_LISTED_FAILURES} more (acronis-onboard status ${batch.id})`);
  for (const { key, state, record } of othersNotDone.slice(0, MAX_LISTED_FAILURES)) {
    console.log(
      tty`  ${key}  (queued by batch ${record?.batchId ?? '?'})  ${state ?? 'gone'}` +
        (record?.failedStep ? tty` at ${record.failedStep}: ${record.error ?? ''}` : ''),
    );
  }
  for (const line of unconfirmedEmailLines(unconfirmedEmails(customers, batch.id))) console.log(line);
  if (report.badRowCount > 0) {
    const lines = report.badRows
      .slice(0, 20)
      .map((b) => b.line)
      .join(', ');
    console.log(
      `bad rows (${report.badRowCount}, not imported): line ${lines}${report.badRowCount > 20 ? ', …' : ''} (reasons above)`,
    );
  }
  const onboarded =
    batch.done + report.outcomes['already-onboarded'] + result.others.filter((o) => o.state === 'done').length;
  const ok = report.badRowCount === 0 && failed.length === 0 && othersNotDone.length === 0 && batch.moved === 0;
  console.log(ok ? allOnboarded(onboarded) : `${onboarded} of ${plural(report.rows, 'row')} onboarded`);
  return ok ? 0 : 1;
}

/** "1 customer onboarded", "all 346 customers onboarded". */
const allOnboarded = (count: number) =>
  count === 1 ? '1 customer onboarded' : `all ${plural(count, 'customer')} onboarded`;
