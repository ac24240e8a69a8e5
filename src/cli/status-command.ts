import { Option, type Command } from 'commander';
import type { App } from '../app/app.js';
import type { BatchFunnel } from '../reconcile/drift-store.js';
import { funnelLine } from '../text/funnel-words.js';
import type { BatchRecord, OnboardingStore } from '../workers/onboarding-store.js';
import { UnknownPartnerError } from '../partners/partner-set.js';
import {
  countByPartner,
  PARTNER_COUNT_STATES,
  partnerOfRecord,
  type PartnerCounts,
} from '../workers/batch-partners.js';
import { isActionBatchId } from '../workers/action-store.js';
import { printActionBatch } from './lifecycle-command.js';
import { withApp } from './with-app.js';
import { terminalJson, terminalSafe, tty } from './terminal-text.js';
import { unconfirmedEmailLines, unconfirmedEmails } from './unconfirmed-emails.js';

/**
 * `acronis-onboard status [BATCH] [--format text|json] [--partner NAME]`: every recent batch, or
 * one batch with its failed customers and why. `--format` is spelled as `results` spells it;
 * `--json`, documented before it, stays as its alias. An install with several partners
 * (docs/partners.md) names each customer's partner and counts a batch per partner; `--partner`
 * keeps one partner's customers (and, without BATCH, the batches that have some).
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status [batch]')
    .description('show recent batches, or one batch: counts, and each failed customer with its step and reason')
    .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text'))
    .option('--json', 'the same as --format json')
    .option('--partner <name>', "only this partner's customers (an install with a partners file)")
    .action((batchId: string | undefined, opts: { format: string; json?: boolean; partner?: string }) =>
      withApp({}, async (app) => {
        const json = opts.json === true || opts.format === 'json';
        const view = partnerView(app, opts.partner);
        if (!view) process.exitCode = 2;
        else if (batchId && isActionBatchId(batchId)) process.exitCode = await printActions(app, batchId, json, view);
        else if (batchId) process.exitCode = await printBatch(app, batchId, json, view);
        else await printBatches(app.store, json, view);
      }),
    );
}

/** How customers are shown: with their partner when the install has several; only one partner's with --partner. */
interface PartnerView {
  names: readonly string[];
  defaultName: string;
  several: boolean;
  only?: string;
}

/** The view `--partner` asks for; undefined (after saying so, naming the known ones) for a partner the install does not serve. */
function partnerView(app: Pick<App, 'partnerNames' | 'defaultPartnerName'>, asked?: string): PartnerView | undefined {
  const names = app.partnerNames;
  const only = asked?.trim().toLowerCase();
  if (only !== undefined && !names.includes(only)) {
    console.error(tty`${new UnknownPartnerError(asked ?? '', names).message}`);
    return undefined;
  }
  return { names, defaultName: app.defaultPartnerName, several: names.length > 1, ...(only ? { only } : {}) };
}

type BatchEntry = Awaited<ReturnType<OnboardingStore['batchCustomers']>>[number];

function partnerOf(view: PartnerView, c: Pick<BatchEntry, 'record'>): string {
  return partnerOfRecord(c.record, view.defaultName);
}

/** The batch's customers the view keeps: all, or with --partner that partner's. */
function inView(view: PartnerView, customers: readonly BatchEntry[]): BatchEntry[] {
  return view.only ? customers.filter((c) => partnerOf(view, c) === view.only) : [...customers];
}

/** Per-partner counts with several partners (only --partner's, when given); none for an install with one. */
function partnerCounts(view: PartnerView, customers: readonly BatchEntry[], batchId: string) {
  if (!view.several) return undefined;
  const counts = countByPartner(customers, batchId, { names: view.names, defaultName: view.defaultName });
  return view.only ? new Map([...counts].filter(([name]) => name === view.only)) : counts;
}

async function printActions(app: App, batchId: string, json: boolean, view: PartnerView): Promise<number> {
  if (view.only) {
    console.error(tty`--partner applies to onboarding batches; ${batchId} is a batch of lifecycle actions`);
    return 2;
  }
  return printActionBatch(app, batchId, json);
}

async function printBatches(store: OnboardingStore, json: boolean, view: PartnerView): Promise<void> {
  const batches = await store.listBatches(20);
  // One partner: every customer is its, and the list is the whole list.
  if (view.only && view.several) return printPartnerBatches(store, batches, json, view);
  if (json) console.log(terminalJson(batches));
  else if (batches.length === 0) console.log('no batches yet');
  else for (const batch of batches) console.log(batchLine(batch));
}

/** `status --partner NAME`: the recent batches with customers of that partner, each with their count. */
async function printPartnerBatches(
  store: OnboardingStore,
  batches: readonly BatchRecord[],
  json: boolean,
  view: PartnerView,
): Promise<void> {
  const listed: { batch: BatchRecord; counts: Map<string, PartnerCounts> }[] = [];
  for (const batch of batches) {
    const counts = partnerCounts(view, await store.batchCustomers(batch.id), batch.id);
    if (counts && counts.size > 0) listed.push({ batch, counts });
  }
  if (json) console.log(terminalJson(listed.map((b) => ({ ...b.batch, partners: Object.fromEntries(b.counts) }))));
  else if (listed.length === 0) console.log(tty`no recent batch has customers of partner ${view.only}`);
  else
    for (const b of listed) {
      console.log(batchLine(b.batch));
      for (const line of partnerCountLines(b.counts)) console.log(line);
    }
}

async function printBatch(
  { store, drift }: Pick<App, 'store' | 'drift'>,
  batchId: string,
  json: boolean,
  view: PartnerView,
): Promise<number> {
  const batch = await store.getBatch(batchId);
  if (!batch) {
    console.error(tty`no batch "${batchId}" (see \`acronis-onboard status\` for the list)`);
    return 2;
  }
  const [customers, funnel] = await Promise.all([store.batchCustomers(batchId), drift.funnel(batchId)]);
  const shown = inView(view, customers);
  const failed = shown.filter((c) => c.record?.state === 'failed' && c.record.batchId === batchId);
  const unconfirmed = unconfirmedEmails(shown, batchId);
  const counts = partnerCounts(view, customers, batchId);
  const named = (c: Pick<BatchEntry, 'record'>) => (view.several ? { partner: partnerOf(view, c) } : {});
  if (json) {
    const list = failed.map((c) => ({
      customer: c.key,
      ...named(c),
      step: c.record?.failedStep,
      error: c.record?.error,
    }));
    const emailUnconfirmed = unconfirmed.map((c) => ({ customer: c.key, ...named(c), login: c.record?.facts.login }));
    const partners = counts ? { partners: Object.fromEntries(counts) } : {};
    console.log(terminalJson({ batch, ...partners, failed: list, emailUnconfirmed, funnel: funnelJson(funnel) }));
    return 0;
  }
  console.log(batchLine(batch));
  for (const line of counts ? partnerCountLines(counts) : []) console.log(line);
  console.log(funnelStatusLine(funnel));
  const tag = (c: BatchEntry) => (view.several ? tty` (${partnerOf(view, c)})` : '');
  for (const c of failed)
    console.log(tty`  failed  ${c.key}` + tag(c) + tty` at ${c.record?.failedStep}: ${c.record?.error}`);
  const partnerNamed = view.several ? (c: Pick<BatchEntry, 'record'>) => partnerOf(view, c) : undefined;
  for (const line of unconfirmedEmailLines(unconfirmed, 200, partnerNamed)) console.log(line);
  return 0;
}

/** One line per partner: its customers in the batch and where they stand (the states it has). */
function partnerCountLines(counts: ReadonlyMap<string, PartnerCounts>): string[] {
  return [...counts].map(([name, c]) => {
    const states = PARTNER_COUNT_STATES.filter((state) => c[state] > 0).map((state) => `  ${state} ${c[state]}`);
    return tty`  partner ${name}  total ${c.total}` + states.join('');
  });
}

export function batchLine(b: BatchRecord): string {
  const state = b.ended ? (b.failed > 0 ? 'ended with failures' : 'ended') : 'in progress';
  return (
    tty`${b.id}  ${b.source}:${b.label}  ${state}  total ${b.total}  queued ${b.queued}  running ${b.running}` +
    `  done ${b.done}  failed ${b.failed}  skipped ${b.skipped}${b.moved ? `  moved ${b.moved}` : ''}  (${terminalSafe(b.createdAt)})`
  );
}

/** The onboarding funnel the sweeps keep (docs/reconcile.md "Funnel"), with when it was checked. */
function funnelStatusLine(funnel: BatchFunnel): string {
  const checked =
    funnel.checkedAt === null ? '' : `  (checked ${terminalSafe(new Date(funnel.checkedAt).toISOString())})`;
  return `  funnel  ${funnelLine(funnel)}${checked}`;
}

/** `checkedAt` null: no sweep has checked the batch yet, and the counts say nothing. */
function funnelJson(funnel: BatchFunnel) {
  return { ...funnel, checkedAt: funnel.checkedAt === null ? null : new Date(funnel.checkedAt).toISOString() };
}
