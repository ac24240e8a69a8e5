import type { Command } from 'commander';
import { resultsCsv } from '../workers/results-csv.js';
import { batchResults } from '../workers/results.js';
import { withApp } from './with-app.js';

/**
 * `acronis-onboard results BATCH [--format csv|json]`: what each customer of the batch got,
 * with the admin password (password activation) and the agent token opened for the
 * operator. The output holds secrets: it goes to stdout, never to a log.
 */
export function registerResultsCommand(program: Command): void {
  program
    .command('results <batch>')
    .description('print the result of every customer of a batch (ids, login, token, install commands), CSV or JSON')
    .option('--format <format>', 'csv or json', 'csv')
    .action(async (batchId: string, opts: { format: string }) => {
      if (opts.format !== 'csv' && opts.format !== 'json') {
        console.error(`--format must be csv or json, not "${opts.format}"`);
        process.exitCode = 2;
        return;
      }
      await withApp({}, async (app) => {
        if (!(await app.store.getBatch(batchId))) {
          console.error(`no batch "${batchId}" (see \`acronis-onboard status\` for the list)`);
          process.exitCode = 2;
          return;
        }
        const rows = await batchResults({ store: app.store, box: app.box, dataCenterUrl: app.dataCenterUrl }, batchId);
        if (opts.format === 'json') console.log(JSON.stringify(rows, null, 2));
        else process.stdout.write(resultsCsv(rows));
      });
    });
}
