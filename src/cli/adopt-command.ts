import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { adopt, type AdoptReport, type AdoptSource } from '../adopt/adopt-run.js';
import type { KeyFrom } from '../adopt/adopt-plan.js';
import type { App } from '../app/app.js';
import { openAdopt } from '../app/adopt-deps.js';
import { loadProfile, ProfileError, type Profile } from '../onboarding/profile.js';
import { CsvFileError } from '../producers/csv-file-error.js';
import { plural } from '../text/plural.js';
import type { ActionProblem } from '../workers/enqueue-action.js';
import { tty } from './terminal-text.js';
import { withApp } from './with-app.js';
import { WAIT_POLL_MS } from './wait-poll.js';

/**
 * `adopt` (docs/adopt.md): tenants made elsewhere taken into this install, from a CSV, one tenant
 * named on the command line, or every child of the partner without a customer_id.
 *
 * Exit codes: 0 every tenant adopted or queued (or adopted already); 1 some rows refused or (with
 * --wait) some adoptions failed; 2 nothing to adopt and something refused, or a file that cannot be read.
 */
interface AdoptCommandOptions {
  tenant?: string;
  externalId?: string;
  allUnmanaged?: boolean;
  keyFrom?: string;
  force?: boolean;
  applyProfile?: boolean;
  profile?: string;
  dryRun?: boolean;
  wait?: boolean;
  partner?: string;
}

export function registerAdoptCommand(program: Command): void {
  program
    .command('adopt [file]')
    .description(
      'take tenants made elsewhere (children of the partner) into this install: a CSV, --tenant, or --all-unmanaged',
    )
    .option('--tenant <id-or-name>', 'one tenant to adopt, by id or name (with --external-id)')
    .option('--external-id <id>', 'the external id the tenant is to carry (its customer_id)')
    .option('--all-unmanaged', 'every customer tenant of the partner without a customer_id')
    .option(
      '--key-from <how>',
      'with --all-unmanaged: each external id from the tenant\'s "name" or "tenant-id"',
      'name',
    )
    .option('--force', 'take over tenants another install or integration stamped with another customer_id')
    .option(
      '--apply-profile',
      "then apply a profile to each (a lifecycle change): the row's, --profile, or the install's",
    )
    .option('--profile <file>', 'the profile --apply-profile applies (default ONBOARDING_PROFILE)')
    .option('--dry-run', 'say what would be adopted and refused; write nothing')
    .option('--wait', 'wait until every adoption has ended and print each failure')
    .option(
      '--partner <name>',
      "adopt children of that partner's tenant, through its own data centre (default: the default partner)",
    )
    .action((file: string | undefined, opts: AdoptCommandOptions) =>
      withApp({}, async (app) => {
        process.exitCode = await runAdopt(app, file, opts);
      }),
    );
}

function sourceOf(file: string | undefined, opts: AdoptCommandOptions): AdoptSource | string {
  const given = [file !== undefined, opts.tenant !== undefined, opts.allUnmanaged === true].filter(Boolean).length;
  if (given !== 1) return 'adopt: give one of a CSV file, --tenant (with --external-id) or --all-unmanaged';
  if (file !== undefined) return { file };
  if (opts.tenant !== undefined) {
    if (!opts.externalId?.trim()) return 'adopt --tenant: --external-id is required (the id the tenant is to carry)';
    return { tenant: opts.tenant, externalId: opts.externalId.trim() };
  }
  if (opts.keyFrom !== 'name' && opts.keyFrom !== 'tenant-id') return '--key-from: must be name or tenant-id';
  return { allUnmanaged: true, keyFrom: opts.keyFrom as KeyFrom };
}

async function runAdopt(app: App, file: string | undefined, opts: AdoptCommandOptions): Promise<number> {
  const source = sourceOf(file, opts);
  if (typeof source === 'string') {
    console.error(source);
    return 2;
  }
  let profile: Profile | undefined;
  let report: AdoptReport;
  try {
    if (opts.profile) profile = await loadProfile(opts.profile);
    const label = 'file' in source ? `CSV ${source.file}` : 'CLI';
    report = await adopt(await openAdopt(app, opts.partner), source, {
      force: opts.force === true,
      dryRun: opts.dryRun === true,
      applyProfile: opts.applyProfile === true,
      ...(profile ? { profile } : {}),
      requester: { kind: 'file' in source ? 'batch' : 'operator', label: `operator (adopt, ${label})` },
    });
  } catch (err) {
    if (!(err instanceof CsvFileError) && !(err instanceof ProfileError)) throw err;
    console.error(tty`${(err as Error).message}`);
    return 2;
  }
  const refused = printRefusals(report);
  for (const a of report.plan.already)
    console.log(tty`${where(a)}nothing to do for tenant "${a.tenant.name}" (${a.key}): ${a.reason}`);
  if (opts.dryRun) return printDryRun(report, refused, opts.applyProfile === true);
  if (!report.queued) {
    console.log(tty`nothing queued: ${plural(refused, 'row')} refused, ${report.plan.already.length} adopted already`);
    return refused > 0 ? 2 : 0;
  }
  return printQueued(app, report, refused, opts.wait === true);
}

function printRefusals(report: AdoptReport): number {
  for (const row of report.bad)
    for (const p of row.problems) console.error(tty`line ${row.line}: ${p.field}: ${p.reason}`);
  for (const r of report.plan.refused) console.error(tty`${where(r)}tenant "${r.tenant}": ${r.field}: ${r.reason}`);
  return report.bad.length + report.plan.refused.length;
}

function printDryRun(report: AdoptReport, refused: number, applyProfile: boolean): number {
  for (const a of report.plan.adopt) {
    const stamp = a.force ? `, replacing customer_id "${a.tenant.customer_id}"` : '';
    const then = applyProfile ? '; then its profile applied (change)' : '';
    console.log(tty`${where(a)}would adopt "${a.tenant.name}" (tenant ${a.tenant.id}) as ${a.key}${stamp}${then}`);
  }
  console.log(
    tty`dry run: ${plural(report.plan.adopt.length, 'tenant')} would be adopted, ${refused} refused, ${report.plan.already.length} adopted already (of ${report.children} children of the partner); nothing written`,
  );
  return refused > 0 ? 1 : 0;
}

async function printQueued(app: App, report: AdoptReport, refused: number, wait: boolean): Promise<number> {
  const { result, changes, changeProblems } = report.queued as NonNullable<AdoptReport['queued']>;
  const started = result.customers.filter((c) => c.outcome === 'queued' || c.outcome === 'replaced').length;
  console.log(tty`batch ${result.batch.id}: ${plural(started, 'adoption')} queued, ${refused} refused`);
  if (changes)
    console.log(tty`profile changes queued as action batch ${changes.batchId}: each runs once its adoption is done`);
  for (const p of changeProblems) console.error(changeProblemLine(p));
  console.log(
    tty`follow it: acronis-onboard status ${result.batch.id}; results: acronis-onboard results ${result.batch.id}`,
  );
  if (!wait) return refused > 0 || changeProblems.length > 0 ? 1 : 0;
  let batch = result.batch;
  while (!batch.ended) {
    await sleep(WAIT_POLL_MS);
    batch = (await app.store.getBatch(batch.id)) ?? batch;
  }
  for (const c of await app.store.batchCustomers(batch.id))
    if (c.record?.state === 'failed') console.error(tty`${c.key}: failed: ${c.record.error ?? ''}`);
  console.log(tty`batch ${batch.id}: ${batch.done} adopted, ${batch.failed} failed`);
  return refused > 0 || batch.failed > 0 || changeProblems.length > 0 ? 1 : 0;
}

const where = (x: { line?: number }) => (x.line !== undefined ? `line ${x.line}: ` : '');

function changeProblemLine(p: ActionProblem): string {
  return tty`${p.line ? `line ${p.line}: ` : ''}customer "${p.customer}": profile not applied: ${p.field}: ${p.reason}`;
}
