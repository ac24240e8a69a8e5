import type { Command } from 'commander';
import { retryBatch, retryCustomer, type RetryOutcome } from '../workers/retry.js';
import { withApp } from './with-app.js';
import { tty } from './terminal-text.js';

/** `acronis-onboard retry BATCH|CUSTOMER`: failed customers resume at the step that failed. */
export function registerRetryCommand(program: Command): void {
  program
    .command('retry <batchOrCustomer>')
    .description(
      'retry the failed customers of a batch, or one failed customer (by external id / key); completed steps are not repeated',
    )
    .action((target: string) =>
      withApp({}, async (app) => {
        const outcomes: RetryOutcome[] = (await app.store.getBatch(target))
          ? await retryBatch(app, target)
          : [await retryCustomer(app, target)];
        for (const o of outcomes) console.log(describe(o));
        if (outcomes.length === 0) console.log(tty`batch ${target} has no failed customers`);
        if (outcomes.some((o) => o.outcome === 'unknown')) process.exitCode = 2;
        else if (outcomes.some((o) => o.outcome === 'job-gone')) process.exitCode = 1;
      }),
    );
}

function describe(o: RetryOutcome): string {
  switch (o.outcome) {
    case 'retried':
      return tty`${o.key}: queued again at ${o.step}`;
    case 'not-failed':
      return tty`${o.key}: not failed (${o.state}); nothing to retry`;
    case 'unknown':
      return tty`${o.key}: no such batch or customer`;
    case 'job-gone':
      return tty`${o.key}: the failed ${o.step} job is no longer kept; resubmit the customer instead`;
  }
}
