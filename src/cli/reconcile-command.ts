import { Option, type Command } from 'commander';
import { loadProfile } from '../onboarding/profile.js';
import { CsvFileError } from '../producers/csv-file-error.js';
import { readCustomersFile } from '../reconcile/customers-file.js';
import { driftCsv, driftTable, fixLines, summaryLine } from '../reconcile/report.js';
import { SweepRunningError } from '../workers/exclusive-sweep.js';
import type { SweepReport } from '../reconcile/sweep.js';
import { terminalJson, tty } from './terminal-text.js';
import { withApp } from './with-app.js';

interface ReconcileOptions {
  json?: boolean;
  format: string;
  fix?: boolean;
  full?: boolean;
  customer?: string[];
  customersFrom?: string;
  profile?: string;
  partner?: string;
}

/**
 * `acronis-onboard reconcile [--json|--format csv] [--fix] [--full] [--customer ID...]`
 * (docs/reconcile.md): every customer of the install against its profile and record, while no other
 * sweep runs (the sweep lease, src/workers/exclusive-sweep.ts). Exit 0 when the sweep ran, 1 when a
 * customer or a partner's tenants could not be read, --fix was refused for one or another sweep
 * runs, 2 when a customer asked for (or the partner named) is unknown.
 */
export function registerReconcileCommand(program: Command): void {
  program
    .command('reconcile')
    .description(
      "compare each customer with its profile and this install's record (tenant, pricing, edition, items and quotas, storage, admin, role, two-factor, agents); heal records the API proves wrong; --fix queues the cures",
    )
    .option('--json', 'print the findings as JSON (same as --format json)')
    .addOption(new Option('--format <format>', 'table, csv or json').choices(['table', 'csv', 'json']).default('table'))
    .option(
      '--fix',
      'queue a change with the profile for each drifting customer, and resend an activation e-mail never acted on',
    )
    .option('--full', 'also ask the usages of customers already seen with an agent (one call per 100)')
    .option('--customer <ids...>', 'only these customers (external ids), read in full')
    .option(
      '--customers-from <file.csv>',
      'only the customers of this CSV (its external_id, else name column, keyed as the import keyed them): after Redis lost records with their batches',
    )
    .option('--profile <file>', 'the profile to compare with (default ONBOARDING_PROFILE, else the built-in one)')
    .option(
      '--partner <name>',
      "only that partner's tenants and customers (default: every partner, each through its own data centre)",
    )
    .action((opts: ReconcileOptions) =>
      withApp({}, async (app) => {
        const customerIds = await askedCustomers(opts);
        if (customerIds === null) return;
        const profile = await loadProfile(opts.profile ?? app.config.ONBOARDING_PROFILE);
        // One sweep at a time in the install, scheduled ones included (docs/reconcile.md "One sweep at a time").
        const swept = await app.sweepExclusively(
          profile,
          {
            ...(opts.full ? { full: true } : {}),
            ...(opts.fix ? { fix: true } : {}),
            ...(customerIds ? { customerIds } : {}),
            ...(opts.partner ? { partner: opts.partner } : {}),
          },
          'manual',
        );
        if (!swept.ran) throw new SweepRunningError(swept.heldBy);
        printReport(swept.report, opts);
      }),
    );
}

/**
 * The customers asked for by `--customer` and `--customers-from`, or undefined for all of them;
 * null when the file cannot be used (said, exit 2) — a bad row is said and the others go on.
 */
async function askedCustomers(opts: ReconcileOptions): Promise<string[] | undefined | null> {
  if (!opts.customersFrom) return opts.customer;
  try {
    const file = await readCustomersFile(opts.customersFrom);
    for (const row of file.bad) console.error(tty`${opts.customersFrom} line ${row.line}: ${row.reason}`);
    if (file.keys.length === 0 && !opts.customer) {
      console.error(tty`${opts.customersFrom}: no customer to look for`);
      process.exitCode = 2;
      return null;
    }
    return [...new Set([...(opts.customer ?? []), ...file.keys])];
  } catch (err) {
    if (!(err instanceof CsvFileError)) throw err;
    console.error(tty`${err.message}`);
    process.exitCode = 2;
    return null;
  }
}

/** The findings in the format asked for, and the exit code they make. */
function printReport(report: SweepReport, opts: ReconcileOptions): void {
  const format = opts.json ? 'json' : opts.format;
  if (format === 'json') {
    const { findings, fixes, unknown, unread, ...summary } = report;
    console.log(terminalJson({ summary, findings, fixes, unknown, unread }));
  } else if (format === 'csv') {
    process.stdout.write(driftCsv(report.findings));
  } else {
    for (const line of [...driftTable(report.findings), ...fixLines(report.fixes)]) console.log(tty`${line}`);
    for (const key of report.unknown)
      console.log(tty`${key}: unknown: no record, batch or tenant of this install has this customer id`);
    for (const u of report.unread) console.log(tty`${u.customerId}: not read: ${u.reason}`);
    for (const p of report.partnersNotRead ?? []) console.log(tty`partner ${p.partner}: not read: ${p.reason}`);
    console.log(tty`${summaryLine(report)}`);
  }
  if (report.unknown.length > 0) process.exitCode = 2;
  else if (
    report.unread.length > 0 ||
    (report.partnersNotRead?.length ?? 0) > 0 ||
    report.fixes.some((f) => f.refused.length > 0)
  )
    process.exitCode = 1;
}
