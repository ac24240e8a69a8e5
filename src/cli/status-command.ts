import { Option, type Command } from 'commander';
import type { App } from '../app/app.js';
import type { BatchFunnel } from '../reconcile/drift-store.js';
import { funnelLine } from '../text/funnel-words.js';
import type { BatchRecord, OnboardingStore } from '../workers/onboarding-store.js';
import { isActionBatchId } from '../workers/action-store.js';
import { printActionBatch } from './lifecycle-command.js';
import { withApp } from './with-app.js';
import { terminalJson, terminalSafe, tty } from './terminal-text.js';
import { unconfirmedEmailLines, unconfirmedEmails } from './unconfirmed-emails.js';

/**
 * `acronis-onboard status [BATCH] [--format text|json]`: every recent batch, or one batch with its
 * failed customers and why. `--format` is spelled as `results` spells it; `--json`, documented
 * before it, stays as its alias.
 */
export function registerStatusCommand(program: Command): void {
  program
    .command('status [batch]')
    .description('show recent batches, or one batch: counts, and each failed customer with its step and reason')
    .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text'))
    .option('--json', 'the same as --format json')
    .action((batchId: string | undefined, opts: { format: string; json?: boolean }) =>
      withApp({}, async (app) => {
        const json = opts.json === true || opts.format === 'json';
        if (batchId && isActionBatchId(batchId)) process.exitCode = await printActionBatch(app, batchId, json);
        else if (batchId) process.exitCode = await printBatch(app, batchId, json);
        else await printBatches(app.store, json);
      }),
    );
}

async function printBatches(store: OnboardingStore, json: boolean): Promise<void> {
  const batches = await store.listBatches(20);
  if (json) console.log(terminalJson(batches));
  else if (batches.length === 0) console.log('no batches yet');
  else for (const batch of batches) console.log(batchLine(batch));
}

async function printBatch(
  { store, drift }: Pick<App, 'store' | 'drift'>,
  batchId: string,
  json: boolean,
): Promise<number> {
  const batch = await store.getBatch(batchId);
  if (!batch) {
    console.error(tty`no batch "${batchId}" (see \`acronis-onboard status\` for the list)`);
    return 2;
  }
  const [customers, funnel] = await Promise.all([store.batchCustomers(batchId), drift.funnel(batchId)]);
  const failed = customers.filter((c) => c.record?.state === 'failed' && c.record.batchId === batchId);
  const unconfirmed = unconfirmedEmails(customers, batchId);
  if (json) {
    const list = failed.map((c) => ({ customer: c.key, step: c.record?.failedStep, error: c.record?.error }));
    const emailUnconfirmed = unconfirmed.map((c) => ({ customer: c.key, login: c.record?.facts.login }));
    console.log(terminalJson({ batch, failed: list, emailUnconfirmed, funnel: funnelJson(funnel) }));
    return 0;
  }
  console.log(batchLine(batch));
  console.log(funnelStatusLine(funnel));
  for (const c of failed) console.log(tty`  failed  ${c.key} at ${c.record?.failedStep}: ${c.record?.error}`);
  for (const line of unconfirmedEmailLines(unconfirmed)) console.log(line);
  return 0;
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
