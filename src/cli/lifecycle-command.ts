import { createInterface } from 'node:readline/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import type { App } from '../app/app.js';
import type { ActionName, ActionParams, Requester } from '../lifecycle/action.js';
import { ownQuotasNote, parseQuotaCells, PROFILE_QUOTA, type NamedQuotas } from '../onboarding/own-quotas.js';
import { loadProfile, type Profile } from '../onboarding/profile.js';
import { readActionCsv, type ActionRow, type BadActionRow } from '../producers/action-csv.js';
import { CsvFileError } from '../producers/csv-file-error.js';
import { plural } from '../text/plural.js';
import { batchEnded, countByState, type ActionRecord } from '../workers/action-store.js';
import {
  cancelOffboard,
  checkActions,
  enqueueActions,
  type ActionEnqueueDeps,
  type ActionProblem,
  type ActionRequest,
  type CheckedAction,
  type QueuedActions,
} from '../workers/enqueue-action.js';
import { withApp } from './with-app.js';
import { terminalJson, terminalSafe, tty } from './terminal-text.js';
import { WAIT_POLL_MS } from './wait-poll.js';

/**
 * After day one (docs/lifecycle.md): `suspend`, `resume`, `offboard` and `change`, for customers
 * named on the command line or a CSV file (`import --action` too). Every request is checked
 * before anything is queued; refusals name the customer (or line) and the field.
 *
 * Exit codes: 0 every action queued (with --wait: done); 1 some rows refused or (with --wait) some
 * actions failed; 2 nothing queued (every request refused, a file that cannot be read, a missing
 * confirmation).
 */
export interface LifecycleOptions {
  dryRun?: boolean;
  wait?: boolean;
  profile?: string;
  edition?: string;
  confirm?: string;
  yesDelete?: string;
  graceDays?: string;
  cancel?: boolean;
  /** change: `item=n`, each a per-customer quota (docs/lifecycle.md "Change"). */
  quota?: string[];
  /** Only that partner's customers; the others are refused naming theirs (docs/lifecycle.md). */
  partner?: string;
}

/** `--quota item=n`, given once per item. */
function collectQuota(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

const DAY_MS = 24 * 3600 * 1000;

export function registerLifecycleCommands(program: Command): void {
  const common = (command: Command) =>
    command
      .option('--dry-run', 'check every customer and say what would be done; queue nothing')
      .option('--wait', 'wait until every action has ended and print each outcome')
      .option('--partner <name>', "act only on that partner's customers; others are refused, naming their partner");
  common(
    program
      .command('suspend <customers...>')
      .description(
        "disable customers' tenants (their data is kept; Acronis keeps billing): names, keys or one CSV file",
      ),
  ).action((targets: string[], opts: LifecycleOptions) => runCommand('suspend', targets, opts));
  common(
    program
      .command('resume <customers...>')
      .description("enable suspended customers' tenants again: names, keys or one CSV file"),
  ).action((targets: string[], opts: LifecycleOptions) => runCommand('resume', targets, opts));
  common(
    program
      .command('offboard <customers...>')
      .description(
        'disable customers at once and delete them after the grace period (irreversible: backups go with them); --cancel calls it off',
      )
      .option('--confirm <name>', "the customer's name, typed: confirms deleting one customer")
      .option('--yes-delete <count>', 'the number of customers to delete, typed: confirms a batch')
      .option('--grace-days <days>', 'days between the disable and the delete (default OFFBOARD_GRACE_DAYS, 30)')
      .option('--cancel', 'within the grace period: call the delete off and resume the customer'),
  ).action((targets: string[], opts: LifecycleOptions) => runCommand('offboard', targets, opts));
  common(
    program
      .command('change <customers...>')
      .description(
        'apply another profile or edition to onboarded customers: items, edition, pricing, roles, two-factor',
      )
      .requiredOption('--profile <file>', 'the profile to apply (docs/profiles.md)')
      .option('--edition <edition>', "the edition to switch to (one of the profile's; default its first)")
      .option(
        '--quota <item=n>',
        "a per-customer quota, a hard quota of exactly n (item: an offering item's name or usage_name), or item=profile for the profile's again; once per item. Quotas not named are kept",
        collectQuota,
      ),
  ).action((targets: string[], opts: LifecycleOptions) => runCommand('change', targets, opts));
}

function runCommand(action: ActionName, targets: string[], opts: LifecycleOptions): Promise<void> {
  return withApp({}, async (app) => {
    process.exitCode = await runLifecycle(app, action, targets, opts);
  });
}

/** `import FILE --action …`, or a file with an `action` column. */
export function runActionImport(file: string, action: ActionName | undefined, opts: LifecycleOptions): Promise<number> {
  return withApp({}, (app) => runLifecycle(app, action, [file], opts));
}

async function runLifecycle(
  app: App,
  action: ActionName | undefined,
  targets: string[],
  opts: LifecycleOptions,
): Promise<number> {
  const fromFile = targets.length === 1 && /\.csv$/i.test(targets[0] as string);
  const source = fromFile ? `CSV ${targets[0]}` : 'CLI';
  const requester: Requester = { kind: fromFile ? 'batch' : 'operator', label: `operator (${source})` };
  // An unknown partner stops the command before anything is read (exit 2, naming the known ones).
  const only = opts.partner
    ? { partner: app.partners.get(opts.partner).name, defaultPartner: app.partners.default.name }
    : undefined;
  const deps = await app.actionEnqueueDeps(only?.partner);
  if (opts.cancel) return cancel(deps, targets, requester);

  let params: ActionParams;
  try {
    params = await paramsOf(app, action, opts);
  } catch (err) {
    console.error(tty`${(err as Error).message}`);
    return 2;
  }
  const read = await requestsOf(action, targets, params, requester, fromFile);
  if (typeof read === 'number') return read;
  const { requests, bad } = read;
  for (const row of bad) for (const p of row.problems) console.error(tty`line ${row.line}: ${p.field}: ${p.reason}`);
  const { accepted, problems } = await checkActions(deps, requests, only);
  for (const problem of problems) console.error(problemLine(problem));
  const refused = bad.length + problems.length;
  if (accepted.length === 0) {
    console.error(tty`nothing queued: ${plural(refused, 'request')} refused`);
    return 2;
  }
  if (opts.dryRun) {
    for (const a of accepted) console.log(tty`would ${a.action} ${a.name} (${a.key})${whatElse(a)}`);
    console.log(tty`dry run: ${plural(accepted.length, 'action')} would be queued, ${refused} refused; nothing queued`);
    return refused > 0 ? 1 : 0;
  }
  const confirmation = await confirmDeletes(accepted, opts, fromFile || targets.length > 1);
  if (confirmation) {
    console.error(tty`nothing done: ${confirmation}`);
    return 2;
  }
  const kind = action ?? (accepted[0] as CheckedAction).action;
  const label = fromFile ? (targets[0] as string) : kind;
  const queued = await enqueueActions(deps, { action: kind, source, label }, accepted);
  const failed = await reportQueued(app, queued, refused, opts.wait === true);
  return failed > 0 || refused > 0 ? 1 : 0;
}

/** What was queued, and with --wait each outcome; the number of actions that failed. */
async function reportQueued(app: App, queued: QueuedActions, refused: number, wait: boolean): Promise<number> {
  for (const a of queued.actions) console.log(tty`queued ${a.action} of ${a.name} (${a.key}) as action ${a.id}`);
  console.log(tty`batch ${queued.batchId}: ${plural(queued.actions.length, 'action')} queued, ${refused} refused`);
  console.log(
    tty`follow it: acronis-onboard status ${queued.batchId}; results: acronis-onboard results ${queued.batchId}`,
  );
  if (!wait) return 0;
  const ended = await waitForBatch(app, queued.batchId);
  for (const a of ended) console.log(actionLine(a));
  return ended.filter((a) => a.state === 'failed').length;
}

/** The requests of the command line's customers, or of the CSV file's rows (with its bad rows); 2 when the file cannot be read. */
async function requestsOf(
  action: ActionName | undefined,
  targets: string[],
  params: ActionParams,
  requester: Requester,
  fromFile: boolean,
): Promise<{ requests: ActionRequest[]; bad: BadActionRow[] } | number> {
  if (!fromFile) {
    return {
      requests: targets.map((customer) => ({ customer, action: action as ActionName, params, requester })),
      bad: [],
    };
  }
  try {
    const csv = await readActionCsv(targets[0] as string, action);
    const requests = csv.rows.map((row) => ({
      customer: row.customer,
      action: row.action,
      line: row.line,
      requester: { ...requester, label: `${requester.label} line ${row.line}` },
      params: {
        ...(row.action === 'offboard' ? { graceMs: params.graceMs } : {}),
        ...(row.action === 'change' ? changeParams(params, row) : {}),
        ...(row.contact ? { contact: row.contact } : {}),
      },
    }));
    return { requests, bad: csv.bad };
  } catch (err) {
    if (!(err instanceof CsvFileError)) throw err;
    console.error(tty`${err.message}`);
    return 2;
  }
}

/** A CSV row's change: the command's profile, the row's edition and quotas (a number or `profile`) over the command's. */
function changeParams(params: ActionParams, row: ActionRow): ActionParams {
  const rowItems = new Set([...Object.keys(row.quotas ?? {}), ...(row.resetQuotas ?? [])]);
  const fromCommand = Object.entries(params.quotas ?? {}).filter(([item]) => !rowItems.has(item));
  const quotas = { ...Object.fromEntries(fromCommand), ...row.quotas };
  const resetQuotas = [...(params.resetQuotas ?? []).filter((item) => !rowItems.has(item)), ...(row.resetQuotas ?? [])];
  return {
    ...(params.profile ? { profile: params.profile } : {}),
    ...((row.edition ?? params.edition) ? { edition: row.edition ?? params.edition } : {}),
    ...(Object.keys(quotas).length > 0 ? { quotas } : {}),
    ...(resetQuotas.length > 0 ? { resetQuotas } : {}),
  };
}

/**
 * `--quota item=n …` as per-customer quotas, `item=profile` as an item handed back to the profile's
 * quota (the later of two for one item wins); an unreadable one names itself.
 */
function quotasOf(given: readonly string[] | undefined): NamedQuotas {
  if (!given || given.length === 0) return {};
  const entries = given.map((g) => {
    const [item, value, ...rest] = g.split('=');
    if (!item || value === undefined || rest.length > 0)
      throw new Error(`--quota ${g}: must be item=n or item=profile`);
    return [item.trim(), value] as const;
  });
  const parsed = parseQuotaCells(Object.fromEntries(entries));
  if (parsed.ok) return parsed.named;
  const [problem] = parsed.problems;
  throw new Error(`--quota ${problem?.item ?? ''}: ${problem?.reason ?? 'unreadable'}`);
}

async function paramsOf(app: App, action: ActionName | undefined, opts: LifecycleOptions): Promise<ActionParams> {
  const graceDays = opts.graceDays === undefined ? app.config.OFFBOARD_GRACE_DAYS : Number(opts.graceDays);
  if (!Number.isFinite(graceDays) || graceDays < 0) throw new Error(`--grace-days: must be a number of days ≥ 0`);
  let profile: Profile | undefined;
  if (opts.profile) profile = await loadProfile(opts.profile);
  if (action === 'change' && !profile) throw new Error('change: --profile FILE is required');
  return {
    ...(action === 'offboard' || action === undefined ? { graceMs: Math.round(graceDays * DAY_MS) } : {}),
    ...(profile ? { profile } : {}),
    ...(opts.edition ? { edition: opts.edition } : {}),
    ...quotasOf(opts.quota),
  };
}

function whatElse(a: CheckedAction): string {
  if (a.action === 'offboard')
    return `: disabled now, deleted at ${new Date(Date.now() + (a.params.graceMs ?? 0)).toISOString()}`;
  if (a.action === 'change')
    return `: profile ${a.params.profile?.name ?? ''}${a.params.edition ? `, edition ${a.params.edition}` : ''}${quotaText(a)}`;
  return '';
}

/** The own quotas as the check planned them (kept ones marked), else those the change names. */
function quotaText(a: CheckedAction): string {
  const note = a.own ? ownQuotasNote(a.own) : undefined;
  if (note) return `, ${note}`;
  const named = Object.entries(a.params.quotas ?? {}).map(([item, n]) => `${item}=${n}`);
  const reset = (a.params.resetQuotas ?? []).map((item) => `${item}=${PROFILE_QUOTA}`);
  return named.length + reset.length > 0 ? `, quotas ${[...named, ...reset].join(', ')}` : '';
}

/**
 * Deleting cannot be undone (backups go with the tenant): one customer needs its name typed
 * (`--confirm NAME`, or at the prompt on a terminal), a batch of N needs `--yes-delete N`.
 * Returns why nothing may be done, or undefined when confirmed.
 */
async function confirmDeletes(accepted: readonly CheckedAction[], opts: LifecycleOptions, batch: boolean) {
  const offboards = accepted.filter((a) => a.action === 'offboard');
  if (offboards.length === 0) return undefined;
  if (batch) {
    if (opts.yesDelete === String(offboards.length)) return undefined;
    return `offboarding deletes ${plural(offboards.length, 'customer')} after the grace period, irreversibly: confirm with --yes-delete ${offboards.length}`;
  }
  const name = (offboards[0] as CheckedAction).name;
  const typed =
    opts.confirm ??
    (process.stdin.isTTY ? await ask(`Type the customer's name to offboard it (${name}): `) : undefined);
  if (typed?.trim() === name.trim()) return undefined;
  return typed === undefined
    ? `offboarding deletes "${name}" after the grace period, irreversibly: confirm with --confirm "${name}"`
    : `the name typed is not "${name}"`;
}

async function ask(question: string): Promise<string> {
  const prompt = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await prompt.question(question);
  } finally {
    prompt.close();
  }
}

async function cancel(deps: ActionEnqueueDeps, targets: string[], requester: Requester): Promise<number> {
  let code = 0;
  for (const customer of targets) {
    const result = await cancelOffboard(deps, customer, {
      ...requester,
      label: `${requester.label}: offboard --cancel`,
    });
    if (result.outcome === 'cancelled')
      console.log(
        tty`offboard of ${customer} cancelled: its delete is called off; resume queued as action ${result.resume.actions[0]?.id ?? ''} (batch ${result.resume.batchId})`,
      );
    else {
      console.error(tty`${result.reason}`);
      code = result.outcome === 'unknown' ? 2 : Math.max(code, 1);
    }
  }
  return code;
}

async function waitForBatch(app: App, batchId: string): Promise<ActionRecord[]> {
  for (;;) {
    const actions = await app.actions.batchActions(batchId);
    if (batchEnded(actions)) return actions;
    await sleep(WAIT_POLL_MS);
  }
}

function problemLine(p: ActionProblem): string {
  return tty`${p.line ? `line ${p.line}: ` : ''}customer "${p.customer}": ${p.field}: ${p.reason}`;
}

export function actionLine(a: ActionRecord): string {
  const pending = a.deleteAt && a.state === 'pending-deletion' && !a.outcome?.includes(a.deleteAt);
  const when = pending ? `  deleted at ${a.deleteAt}` : '';
  return tty`  ${a.state}  ${a.action} ${a.customerName} (${a.customerKey}): ${a.outcome ?? a.error ?? ''}${when}`;
}

/** `status ab-…`: the batch, its counts by state, and each action that has not simply ended done. */
export async function printActionBatch(app: App, batchId: string, json: boolean): Promise<number> {
  const batch = await app.actions.getBatch(batchId);
  if (!batch) {
    console.error(tty`no batch "${batchId}" (see \`acronis-onboard status\` for the list)`);
    return 2;
  }
  const actions = await app.actions.batchActions(batchId);
  const counts = countByState(actions);
  if (json) {
    console.log(terminalJson({ batch, counts, actions }));
    return 0;
  }
  const summary = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([state, n]) => `${state} ${n}`)
    .join('  ');
  console.log(
    tty`${batch.id}  ${batch.action}  ${batch.source}:${batch.label}  ${batchEnded(actions) ? 'ended' : 'in progress'}  total ${batch.total}  ${summary}  (${terminalSafe(batch.createdAt)})`,
  );
  for (const a of actions) if (a.state !== 'done') console.log(actionLine(a));
  return 0;
}
