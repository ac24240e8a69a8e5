import type { Command } from 'commander';
import { retryBatch, retryCustomer, type RetryOutcome } from '../workers/retry.js';
import { allQueued, FORCE_HINT, noneFailed, retryCount, retryLine } from '../workers/retry-verdict.js';
import { withApp } from './with-app.js';
import { tty } from './terminal-text.js';

/**
 * `acronis-onboard retry BATCH|CUSTOMER [--force]`: failed customers resume at the step that
 * failed; conflicts that need a changed name or login are reported with the resubmit step.
 * Exit 0 when every failed customer was queued again, 1 when some were not, 2 for an unknown target.
 */
export function registerRetryCommand(program: Command): void {
  program
    .command('retry <batchOrCustomer>')
    .description(
      'retry the failed customers of a batch, or one failed customer (by external id / key); completed steps are not repeated; a name or login owned elsewhere is not retried but reported with the change to make',
    )
    .option('--force', 'queue customers that failed on a name or login conflict too (the conflict was removed)')
    .action((target: string, opts: { force?: boolean }) =>
      withApp({}, async (app) => {
        const force = { force: opts.force === true };
        const outcomes: RetryOutcome[] = (await app.store.getBatch(target))
          ? await retryBatch(app, target, force)
          : [await retryCustomer(app, target, force)];
        report(target, outcomes);
        if (outcomes.some((o) => o.outcome === 'unknown')) process.exitCode = 2;
        else if (!allQueued(outcomes)) process.exitCode = 1;
      }),
    );
}

function report(target: string, outcomes: readonly RetryOutcome[]): void {
  for (const o of outcomes) console.log(tty`${retryLine(o)}`);
  if (outcomes.length === 0) console.log(tty`${noneFailed(target)}`);
  if (outcomes.some((o) => o.outcome === 'unknown')) return;
  console.log(retryCount(outcomes));
  if (outcomes.some((o) => o.outcome === 'needs-change')) console.log(FORCE_HINT);
}
