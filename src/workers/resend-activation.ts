import type { AcronisEndpoints } from '../acronis/client.js';
import { certainlyNotCarriedOut } from '../acronis/errors.js';
import { reasonOf } from '../onboarding/errors.js';
import type { OnboardingStore } from './onboarding-store.js';
import { jobIdFor, type OnboardingQueue } from './queue.js';
import { isEmailUnconfirmed } from './unconfirmed-emails.js';

/**
 * `resend-activation`: the operator's answer to an unconfirmed activation e-mail. The pipeline
 * sends each e-mail at most once, so a send whose answer was lost ends `email-unconfirmed`
 * (docs/pipeline.md); whether the admin got it only they can tell. Sending again is a person's
 * decision, made here: the user is read first (an activated one is left alone), then the e-mail
 * goes out through the same rate-limited client the workers use, and the record says so.
 */
export interface ResendDeps {
  store: OnboardingStore;
  /** The step queue of the customer's data centre (its record's `partner`; none: the default partner's). */
  queueFor(partner: string | undefined): OnboardingQueue;
  /** The API client of the customer's partner, which owns its user. */
  acronisFor(partner: string | undefined): ResendClient;
}

/** What resending asks of the API. */
export type ResendClient = Pick<AcronisEndpoints, 'getUser' | 'sendActivationEmail'>;

export type ResendOutcome =
  /** `recorded` false: the record kept changing under the write, so it still says what it said. */
  | { key: string; outcome: 'sent'; login: string; recorded: boolean }
  | { key: string; outcome: 'already-activated'; login: string; recorded: boolean }
  /** The API certainly did not send it (refused, rate-limited, unreachable): running again is safe. */
  | { key: string; outcome: 'not-sent'; login: string; reason: string }
  /** The answer was lost again: it may have gone out; the record stays unconfirmed. */
  | { key: string; outcome: 'answer-lost'; login: string; reason: string }
  | { key: string; outcome: 'not-eligible'; state: string; activation: string }
  | { key: string; outcome: 'unknown' };

/** Activations a named customer may be resent for: unconfirmed, or sent and reported missing by the admin. */
const RESENDABLE = new Set(['email-unconfirmed', 'email-sent']);

/** One customer, named by the operator: its e-mail is unconfirmed, or was sent and never arrived. */
export async function resendToCustomer(deps: ResendDeps, key: string): Promise<ResendOutcome> {
  const record = await deps.store.getCustomer(key);
  if (!record) return { key, outcome: 'unknown' };
  const { activation = 'none', userId } = record.facts;
  if (record.state !== 'done' || !RESENDABLE.has(activation) || !userId)
    return { key, outcome: 'not-eligible', state: record.state, activation };
  return resend(deps, { key, userId, login: record.facts.login ?? '', runId: record.runId, partner: record.partner });
}

/** Every customer of the batch whose activation e-mail is unconfirmed, one after another. */
export async function resendToBatch(deps: ResendDeps, batchId: string): Promise<ResendOutcome[]> {
  const outcomes: ResendOutcome[] = [];
  for (const { key, record } of await deps.store.batchCustomers(batchId)) {
    if (isEmailUnconfirmed(record, batchId)) outcomes.push(await resendToCustomer(deps, key));
  }
  return outcomes;
}

/** The customer a resend is for: its admin user, and where its record and job live. */
interface ResendTarget {
  key: string;
  userId: string;
  login: string;
  runId: string | undefined;
  partner: string | undefined;
}

async function resend(deps: ResendDeps, target: ResendTarget): Promise<ResendOutcome> {
  const { key, userId, login } = target;
  const acronis = deps.acronisFor(target.partner);
  let activated: boolean;
  try {
    activated = (await acronis.getUser(userId)).activated;
    if (!activated) await acronis.sendActivationEmail(userId);
  } catch (err) {
    const reason = reasonOf(err);
    return certainlyNotCarriedOut(err)
      ? { key, outcome: 'not-sent', login, reason }
      : { key, outcome: 'answer-lost', login, reason };
  }
  const recorded = activated
    ? await record(deps, target, 'already-activated', 'resend-activation: user already activated; not sent')
    : await record(deps, target, 'email-sent', `resend-activation: activation e-mail sent again to ${login}`);
  return { key, outcome: activated ? 'already-activated' : 'sent', login, recorded };
}

/**
 * The record's activation, and a line in the activate-user job's log, which the dashboard shows
 * as the customer's timeline (when retention has not removed the job, or it belongs to another run).
 */
async function record(
  deps: ResendDeps,
  { key, runId, partner }: ResendTarget,
  activation: 'email-sent' | 'already-activated',
  line: string,
): Promise<boolean> {
  const recorded = await deps.store.amendFacts(key, (facts) => ({ ...facts, activation }));
  const job = await deps.queueFor(partner).getJob(jobIdFor(key, 'activate-user'));
  if (job && job.data.runId === runId) await job.log(line);
  return recorded;
}

/** Whether every customer was sent its e-mail or found activated (the command's exit 0). */
export function allSettled(outcomes: readonly ResendOutcome[]): boolean {
  return outcomes.every(settled);
}

function settled(o: ResendOutcome): boolean {
  return o.outcome === 'sent' || o.outcome === 'already-activated';
}

const NOT_RECORDED = "; not recorded: the customer's record changed meanwhile, so status still says what it said";

/** What was done for one customer, in the words the CLI and the dashboard both show. Plain text. */
export function resendLine(o: ResendOutcome): string {
  switch (o.outcome) {
    case 'sent':
      return `${o.key}: activation e-mail sent again to ${o.login}${o.recorded ? '' : NOT_RECORDED}`;
    case 'already-activated':
      return `${o.key}: ${o.login} is already activated; nothing sent${o.recorded ? '' : NOT_RECORDED}`;
    case 'not-sent':
      return `${o.key}: not sent (${o.reason}); nothing went out, so sending again is safe`;
    case 'answer-lost':
      return `${o.key}: the answer was lost (${o.reason}); it may have gone out, the e-mail stays unconfirmed: ask ${o.login} before sending again`;
    case 'not-eligible':
      return `${o.key}: not resent: the customer is ${o.state} and ${activationWords(o.activation)} (only a done customer activated by e-mail is)`;
    case 'unknown':
      return `${o.key}: no such batch or customer`;
  }
}

/** A recorded activation (ChainFacts.activation, or none yet) as a person says it. */
const ACTIVATION_WORDS: Readonly<Record<string, string>> = {
  none: 'its admin was not activated yet',
  'password-set': 'its admin was given a password, not an e-mail',
  'already-activated': 'its admin was activated already',
  'not-requested': 'its profile asks for no activation',
  'email-sent': 'its activation e-mail was sent',
  'email-unconfirmed': 'its activation e-mail is unconfirmed',
};

function activationWords(activation: string): string {
  return Object.hasOwn(ACTIVATION_WORDS, activation)
    ? ACTIVATION_WORDS[activation]!
    : `its activation is ${activation}`;
}

/** The closing count of a batch's resend. */
export function resendCount(batchId: string, outcomes: readonly ResendOutcome[]): string {
  if (outcomes.length === 0) return `batch ${batchId} has no customer whose activation e-mail is unconfirmed`;
  const sent = outcomes.filter((o) => o.outcome === 'sent').length;
  const activated = outcomes.filter((o) => o.outcome === 'already-activated').length;
  const rest = outcomes.length - sent - activated;
  return `${sent} sent again, ${activated} already activated, ${rest} not sent`;
}

/** The dashboard's notice: the count, then the line of each customer not settled. */
export function resendNotice(batchId: string, outcomes: readonly ResendOutcome[]): string {
  const unsettled = outcomes.filter((o) => !settled(o)).map(resendLine);
  return [resendCount(batchId, outcomes), ...unsettled].join('; ');
}
