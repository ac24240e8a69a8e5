import { adoptCommandLine } from '../onboarding/adopt-command-line.js';
import type { NeedsChange } from '../onboarding/errors.js';
import { plural } from '../text/plural.js';
import type { RetryOutcome, Submission } from './retry.js';

/**
 * What `retry` did, in the words both the CLI and the dashboard show, so an operator gets one
 * verdict wherever they ask. Plain text: each caller escapes it for its medium.
 */
export function retryLine(o: RetryOutcome): string {
  switch (o.outcome) {
    case 'retried':
      return `${o.key}: queued again at ${o.step}`;
    case 'needs-change':
      return `${o.key}: needs a change, not queued: ${conflictText(o.change)}; ${adoptOr(o.key, o.change)}${resubmitStep(o.change, o.submission)}`;
    case 'not-failed':
      return `${o.key}: not failed (${o.state}); nothing to retry`;
    case 'unknown':
      return `${o.key}: no such batch or customer`;
    case 'job-gone':
      return `${o.key}: the failed ${o.step} job is no longer kept (kept 30 days); submit the customer again`;
  }
}

/** A tenant made elsewhere holds the name: if it is this customer, adopting it is the way out (docs/adopt.md). */
function adoptOr(key: string, change: NeedsChange): string {
  if (!change.adoptTenantId) return '';
  return `if that tenant is this customer, adopt it: ${adoptCommandLine(change.adoptTenantId, key)}; else `;
}

function conflictText(change: NeedsChange): string {
  return `${change.field} "${change.value}" is already used by ${change.owner}`;
}

/** The customer is fixed where it came from and submitted again; a re-import replaces the failed record. */
export function resubmitStep(change: NeedsChange, submission: Submission): string {
  const field = change.field;
  if (submission.source === 'csv' && submission.label) {
    return `change the ${field} in its row of ${submission.label} and import it again (acronis-onboard import ${submission.label})`;
  }
  if (submission.source === 'webhook') {
    return `change the ${field} in the CRM and send the customer again (webhook)`;
  }
  return `change the ${field} and submit the customer again`;
}

/** The closing count: how many failed customers went back to the queue, and why the rest did not. */
export function retryCount(outcomes: readonly RetryOutcome[]): string {
  const n = (kind: RetryOutcome['outcome']) => outcomes.filter((o) => o.outcome === kind).length;
  const queued = `${plural(n('retried'), 'customer')} queued again`;
  const rest = [
    ...(n('needs-change') > 0 ? [`${plural(n('needs-change'), 'needs', 'need')} a change`] : []),
    ...(n('job-gone') > 0 ? [`${plural(n('job-gone'), 'failed job')} gone`] : []),
  ];
  return rest.length > 0 ? `${queued}; not queued: ${rest.join(', ')}` : queued;
}

/** Said once under the lines when some customer needs a change: the way out when the conflict went away. */
export const FORCE_HINT =
  'if what it collides with is gone now (the other account or tenant was removed or renamed), `acronis-onboard retry KEY --force` queues it as it is';

/** Said of a batch none of whose customers is failed now. */
export function noneFailed(batchId: string): string {
  return `batch ${batchId} has no failed customers`;
}

/**
 * The dashboard's notice after Retry all failed: the CLI's closing count, then the CLI's line of
 * each customer not queued (those queued are told by the count), so both say the same words.
 */
export function retryNotice(batchId: string, outcomes: readonly RetryOutcome[]): string {
  if (outcomes.length === 0) return noneFailed(batchId);
  const notQueued = outcomes.filter((o) => o.outcome !== 'retried').map(retryLine);
  return [retryCount(outcomes), ...notQueued].join('; ');
}

/** The notice after a customer's own Retry: its line when not queued, else the count. */
export function customerRetryNotice(outcome: RetryOutcome): string {
  return outcome.outcome === 'retried' ? retryCount([outcome]) : retryLine(outcome);
}

/** Whether every failed customer went back to the queue (the command's exit 0). */
export function allQueued(outcomes: readonly RetryOutcome[]): boolean {
  return outcomes.every((o) => o.outcome === 'retried' || o.outcome === 'not-failed');
}
