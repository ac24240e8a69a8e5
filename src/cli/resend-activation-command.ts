import type { Command } from 'commander';
import { resendToBatch, resendToCustomer, type ResendOutcome } from '../workers/resend-activation.js';
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
        const deps = { store: app.store, queue: app.queue, acronis: app.acronis };
        const isBatch = (await app.store.getBatch(target)) !== undefined;
        const outcomes = isBatch ? await resendToBatch(deps, target) : [await resendToCustomer(deps, target)];
        for (const o of outcomes) console.log(tty`${resendLine(o)}`);
        if (isBatch) console.log(tty`${batchCount(target, outcomes)}`);
        if (outcomes.some((o) => o.outcome === 'unknown')) process.exitCode = 2;
        else if (!outcomes.every(settled)) process.exitCode = 1;
      }),
    );
}

function settled(o: ResendOutcome): boolean {
  return o.outcome === 'sent' || o.outcome === 'already-activated';
}

export function resendLine(o: ResendOutcome): string {
  switch (o.outcome) {
    case 'sent':
      return `${o.key}: activation e-mail sent again to ${o.login}`;
    case 'already-activated':
      return `${o.key}: ${o.login} is already activated; nothing sent`;
    case 'not-sent':
      return `${o.key}: not sent (${o.reason}); nothing went out, run the command again`;
    case 'answer-lost':
      return `${o.key}: the answer was lost (${o.reason}); it may have gone out, the e-mail stays unconfirmed: ask ${o.login} before sending again`;
    case 'not-eligible':
      return `${o.key}: not resent: the customer is ${o.state}, its activation ${o.activation} (only a done customer activated by e-mail is)`;
    case 'unknown':
      return `${o.key}: no such batch or customer`;
  }
}

function batchCount(batchId: string, outcomes: readonly ResendOutcome[]): string {
  if (outcomes.length === 0) return `batch ${batchId} has no customer whose activation e-mail is unconfirmed`;
  const sent = outcomes.filter((o) => o.outcome === 'sent').length;
  const activated = outcomes.filter((o) => o.outcome === 'already-activated').length;
  const rest = outcomes.length - sent - activated;
  return `${sent} sent again, ${activated} already activated, ${rest} not sent (see above)`;
}
