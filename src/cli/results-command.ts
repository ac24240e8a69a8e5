import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { plural } from '../text/plural.js';
import { trackableByGit } from './git-exposure.js';
import { writeOwnerOnly } from './owner-only-file.js';
import { resultsCsv } from '../workers/results-csv.js';
import { batchResults, type CustomerResult } from '../workers/results.js';
import type { App } from '../app/app.js';
import { isActionBatchId } from '../workers/action-store.js';
import { actionResult, actionResultsCsv } from '../workers/action-results.js';
import { resultsDeps } from '../app/operation-deps.js';
import { withApp } from './with-app.js';
import { terminalJson, tty } from './terminal-text.js';

/**
 * `acronis-onboard results BATCH [--format csv|json] [--output FILE]`: what each customer of the
 * batch got, with the admin password (password activation) and the agent token opened for the
 * operator. The output holds secrets: stdout, or a file only its owner may read, never a log.
 * A secret that does not open is named per row on stderr (exit 1); the rest is still printed.
 */
export function registerResultsCommand(program: Command): void {
  program
    .command('results <batch>')
    .description('print the result of every customer of a batch (ids, login, token, install commands), CSV or JSON')
    .addOption(new Option('--format <format>', 'csv or json').choices(['csv', 'json']).default('csv'))
    .option('--output <file>', 'write to FILE, created readable by its owner only (mode 0600), instead of stdout')
    .action(async (batchId: string, opts: { format: string; output?: string }) => {
      await withApp({}, async (app) => {
        if (isActionBatchId(batchId)) {
          process.exitCode = await printActionResults(app, batchId, opts.format);
          return;
        }
        if (!(await app.store.getBatch(batchId))) {
          console.error(tty`no batch "${batchId}" (see \`acronis-onboard status\` for the list)`);
          process.exitCode = 2;
          return;
        }
        const rows = await batchResults(resultsDeps(app), batchId);
        const text = opts.format === 'json' ? `${terminalJson(rows)}\n` : resultsCsv(rows);
        if (opts.output) await writeResults(resolve(opts.output), text, { batchId, rows, format: opts.format });
        else process.stdout.write(text);
        if (reportUnreadable(rows)) process.exitCode = 1;
      });
    });
}

/** The file, for its owner only; then what was written where, and a warning when git would take it in. */
async function writeResults(
  file: string,
  text: string,
  what: { batchId: string; rows: readonly CustomerResult[]; format: string },
): Promise<void> {
  await writeOwnerOnly(file, text);
  const customers = plural(what.rows.length, 'customer');
  console.log(
    tty`wrote the results of ${customers} of batch ${what.batchId} to ${file} (${what.format.toUpperCase()}, mode 0600: it holds passwords and agent tokens)`,
  );
  if (await trackableByGit(file))
    console.error(
      tty`warning: ${file} is in a git work tree and not ignored: add it to .gitignore or write it elsewhere, so its secrets never reach the history`,
    );
}

function reportUnreadable(rows: readonly CustomerResult[]): boolean {
  const unreadable = rows.filter((r) => r.unreadable !== '');
  for (const row of unreadable) console.error(tty`customer ${row.customer}: not shown: ${row.unreadable}`);
  if (unreadable.length > 0)
    console.error(
      `${plural(unreadable.length, 'customer')} with secrets that do not open (their cells are empty; the rest is complete)`,
    );
  return unreadable.length > 0;
}

/** A batch of lifecycle actions: each customer, the action, its outcome; an offboard's disable and delete dates. */
async function printActionResults(app: App, batchId: string, format: string): Promise<number> {
  if (!(await app.actions.getBatch(batchId))) {
    console.error(tty`no batch "${batchId}" (see \`acronis-onboard status\` for the list)`);
    return 2;
  }
  const rows = (await app.actions.batchActions(batchId)).map(actionResult);
  process.stdout.write(format === 'json' ? `${terminalJson(rows)}\n` : actionResultsCsv(rows));
  return 0;
}
