import type { Command } from 'commander';
import { allSettled, resendCount, resendLine, resendToBatch, resendToCustomer } from '../workers/resend-activation.js';
import { resendDeps } from '../app/operation-deps.js';
import { withApp } from './with-app.js';
import { tty } from './terminal-text.js';

/**
 * `acronis-onboard resend-activation BATCH|CUSTOMER`: sends the activation e-mail again to the
 * batch's customers whose e-mail is unconfirmed, or to one customer named by the operator.
 * Exit 0 when every one was sent (or found activated), 1 when some were not, 2 for an unknown target.
 */
export function registerResendActivationCommand(program: Command): void {
  program
    .command('resend-activation <batchOrCustomer>')
    .description(
      "send the activation e-mail again: to a batch's customers whose e-mail is unconfirmed (the answer to the send was lost), or to one customer whose admin got none; an activated user is left alone",
    )
    .action((target: string) =>
      withApp({}, async (app) => {
        const deps = resendDeps(app);
        const isBatch = (await app.store.getBatch(target)) !== undefined;
        const outcomes = isBatch ? await resendToBatch(deps, target) : [await resendToCustomer(deps, target)];
        for (const o of outcomes) console.log(tty`${resendLine(o)}`);
        if (isBatch) console.log(tty`${resendCount(target, outcomes)}`);
        if (outcomes.some((o) => o.outcome === 'unknown')) process.exitCode = 2;
        else if (!allSettled(outcomes)) process.exitCode = 1;
      }),
    );
}
