import type { CustomerRecord } from '../workers/onboarding-store.js';
import { resendToCustomer, type ResendOutcome } from '../workers/resend-activation.js';
import { retryCustomer, type RetryOutcome } from '../workers/retry.js';
import { isEmailUnconfirmed } from '../workers/unconfirmed-emails.js';
import type { DashboardDeps } from './dashboard.js';

/**
 * The dashboard's Retry and Resend, each customer in its own partner's queue and with its
 * partner's client (docs/partners.md): a batch may hold customers of several partners, whose
 * step jobs live in their data centres' queues. A batch page filtered by partner acts on that
 * partner's customers only, as its counts say.
 */
type Deps = Pick<DashboardDeps, 'store' | 'queueFor' | 'acronis' | 'partners'>;

export async function retryOne(deps: Deps, key: string): Promise<RetryOutcome> {
  const record = await deps.store.getCustomer(key);
  return retryCustomer({ queueFor: () => deps.queueFor(record?.partner), store: deps.store }, key);
}

/** Every customer of the batch (of `partner`, if given) that failed here, one after another. */
export async function retryFailedOf(deps: Deps, batchId: string, partner?: string): Promise<RetryOutcome[]> {
  const outcomes: RetryOutcome[] = [];
  for (const { key, record } of await customersOf(deps, batchId, partner)) {
    if (record?.state === 'failed' && record.batchId === batchId)
      outcomes.push(await retryCustomer({ queueFor: deps.queueFor, store: deps.store }, key));
  }
  return outcomes;
}

/** Every customer of the batch (of `partner`, if given) whose activation e-mail is unconfirmed. */
export async function resendUnconfirmedOf(deps: Deps, batchId: string, partner?: string): Promise<ResendOutcome[]> {
  const outcomes: ResendOutcome[] = [];
  for (const { key, record } of await customersOf(deps, batchId, partner)) {
    if (!isEmailUnconfirmed(record, batchId)) continue;
    outcomes.push(
      await resendToCustomer({ store: deps.store, queueFor: deps.queueFor, acronisFor: deps.acronis }, key),
    );
  }
  return outcomes;
}

async function customersOf(deps: Deps, batchId: string, partner: string | undefined) {
  const customers = await deps.store.batchCustomers(batchId);
  if (partner === undefined) return customers;
  return customers.filter(({ record }) => partnerOf(deps, record) === partner);
}

/** A record's partner, as the pages show it: a record that names none is the default partner's. */
export function partnerOf(
  deps: Pick<DashboardDeps, 'partners'>,
  record: CustomerRecord | undefined,
): string | undefined {
  return record?.partner ?? deps.partners?.default;
}
