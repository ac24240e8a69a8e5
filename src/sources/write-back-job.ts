import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '../logger.js';
import type { OnboardingStore } from '../workers/onboarding-store.js';
import type { WriteBackJob } from '../workers/source-queues.js';
import { SourceApiError, type WriteBack } from './kind.js';
import type { SourceIntakeStore } from './intake-store.js';
import type { SourceSet } from './source-set.js';

/**
 * A customer a source started, written back to the source's record once it is done or failed
 * (docs/sources.md "Write-back"): the job looks at the customer, waits (delayed, promoted by the
 * step worker that finishes it) while it runs, then calls the kind's writeBack through the
 * source's rate limit. The kind's write is idempotent, so a retry after a lost answer is safe.
 */
export interface WriteBackDeps {
  sources: SourceSet;
  store: SourceIntakeStore;
  onboarding: Pick<OnboardingStore, 'getCustomer'>;
  logger: Logger;
  /** How long a customer still running waits for its next look, unless its last step promotes it first. */
  recheckMs?: number;
}

/** A customer that has not finished after this long is given up. */
const MAX_WAIT_MS = 7 * 24 * 3600 * 1000;

export async function runWriteBack(
  deps: WriteBackDeps,
  job: Job<WriteBackJob>,
  token?: string,
  signal?: AbortSignal,
): Promise<string> {
  const { source: name, customerKey, target } = job.data;
  const log = deps.logger.child({ component: 'write-back', source: name, customer: customerKey });
  const source = deps.sources.get(name);
  if (!source) throw new UnrecoverableError(`the source ${name} is no longer configured`);
  const result = await settledResult(deps, customerKey);
  if (result === 'gone') throw new UnrecoverableError(`customer ${customerKey} no longer exists`);
  if (result === 'running') {
    if (Date.now() - Date.parse(job.data.registeredAt) > MAX_WAIT_MS)
      throw new UnrecoverableError('the customer has not finished in 7 days');
    await job.moveToDelayed(Date.now() + (deps.recheckMs ?? 10_000), token);
    throw new DelayedError();
  }
  const attempts = job.attemptsMade + 1;
  try {
    await source.kind.writeBack(target, result, source.context(log, signal));
    await deps.store.countCall(name, 'write_back');
  } catch (err) {
    await deps.store.countCall(name, 'write_back', err);
    const retryable = err instanceof SourceApiError ? err.retryable : true;
    const final = !retryable || attempts >= (job.opts.attempts ?? 1);
    const error = err instanceof SourceApiError ? err.message : `write-back failed: ${(err as Error).message}`;
    await deps.store.setWriteBack(customerKey, { state: final ? 'failed' : 'pending', attempts, error });
    log[final ? 'error' : 'warn']({ reason: error, final }, 'write-back failed');
    throw retryable ? err : new UnrecoverableError(error);
  }
  await deps.store.setWriteBack(customerKey, { state: 'written', result: result.state, attempts, error: '' });
  log.info({ state: result.state }, 'written back');
  await lookAgainIfRetried(deps, job, result.state, token);
  return `written (${result.state})`;
}

/**
 * The operator retried the customer while its end was being written: the step worker that ended
 * it again found this job still running, so the job itself goes round once more, at once when the
 * customer has ended again, else at its next look or the nudge of that end.
 */
async function lookAgainIfRetried(
  deps: WriteBackDeps,
  job: Job<WriteBackJob>,
  written: string,
  token: string | undefined,
): Promise<void> {
  const now = await settledResult(deps, job.data.customerKey);
  if (now === 'gone' || (now !== 'running' && now.state === written)) return;
  await job.moveToDelayed(Date.now() + (now === 'running' ? (deps.recheckMs ?? 10_000) : 0), token);
  throw new DelayedError();
}

async function settledResult(deps: WriteBackDeps, customerKey: string): Promise<WriteBack | 'running' | 'gone'> {
  const record = await deps.onboarding.getCustomer(customerKey);
  if (!record) return 'gone';
  if (record.state !== 'done' && record.state !== 'failed') return 'running';
  return {
    state: record.state,
    customer: customerKey,
    ...(record.facts.tenantId ? { tenantId: record.facts.tenantId } : {}),
    ...(record.facts.login ? { adminLogin: record.facts.login } : {}),
    ...(record.state === 'failed' && record.error ? { reason: record.error } : {}),
  };
}
