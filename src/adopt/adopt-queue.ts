import type { Profile } from '../onboarding/profile.js';
import { ADOPT_STEPS, type StepName } from '../onboarding/chain.js';
import type { CustomerRequest } from '../onboarding/customer-request.js';
import type { Requester } from '../lifecycle/action.js';
import { enqueueCustomers, type EnqueueDeps, type EnqueueResult } from '../workers/enqueue.js';
import type { CsvRowsSummary } from '../workers/onboarding-store.js';
import {
  checkActions,
  enqueueActions,
  type ActionEnqueueDeps,
  type ActionProblem,
  type QueuedActions,
} from '../workers/enqueue-action.js';
import { adoptionRequest, type AdoptPlan, type PlannedAdoption } from './adopt-plan.js';

/**
 * Queues a plan's adoptions as one batch of chains (adopt-tenant → adopt-read-back) through the
 * one enqueue the imports use: the same claims, counts and index, so the batch shows in `status`,
 * `results` and the dashboard as any batch. With a profile to apply, each adopted customer also
 * gets a lifecycle `change`, which waits for its adoption to end (docs/lifecycle.md).
 */
export interface AdoptQueueDeps {
  enqueue: EnqueueDeps;
  actions: ActionEnqueueDeps;
}

export interface QueuedAdoptions {
  result: EnqueueResult;
  changes?: QueuedActions;
  /** Changes refused (a profile the partner's offer cannot satisfy, another storage …), by customer. */
  changeProblems: ActionProblem[];
}

export async function queueAdoptions(
  deps: AdoptQueueDeps,
  plan: Pick<AdoptPlan, 'adopt'>,
  batch: { label: string; csv?: CsvRowsSummary },
  apply?: { profileOf(adoption: PlannedAdoption): Profile; requester: Requester },
): Promise<QueuedAdoptions> {
  const requests = plan.adopt.map((a) => adoptionRequest(a.tenant, a.key).data as CustomerRequest);
  const adopt = plan.adopt.map((a) => ({
    tenantId: a.tenant.id,
    force: a.force,
    // The version read for the plan lets the first attempt send its PUT at once (a stale one reads
    // again); a tenant carrying our key already is read first and left alone.
    ...(a.tenant.customer_id === a.key ? {} : { version: a.tenant.version }),
  }));
  const steps = [...ADOPT_STEPS] as StepName[];
  const newBatch = { source: 'adopt', label: batch.label, ...(batch.csv ? { csv: batch.csv } : {}) };
  const result = await enqueueCustomers(deps.enqueue, newBatch, requests, {
    steps,
    adopt,
  });
  if (!apply) return { result, changeProblems: [] };
  const started = plan.adopt.filter((_, i) => ['queued', 'replaced'].includes(result.customers[i]?.outcome ?? ''));
  const wanted = started.map((a) => ({
    customer: a.key,
    action: 'change' as const,
    params: { profile: apply.profileOf(a) },
    requester: apply.requester,
    tenantId: a.tenant.id,
    ...(a.line !== undefined ? { line: a.line } : {}),
  }));
  const { accepted, problems } = await checkActions(deps.actions, wanted);
  if (accepted.length === 0) return { result, changeProblems: problems };
  const changes = await enqueueActions(
    deps.actions,
    { action: 'change', source: 'adopt --apply-profile', label: batch.label },
    accepted,
  );
  return { result, changes, changeProblems: problems };
}
