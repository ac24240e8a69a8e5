import type { OfferingItem } from '../acronis/offering-items.js';
import type { ListedTenant } from '../acronis/tenant-listing.js';
import type { ListedUser } from '../acronis/user-listing.js';
import { plannedSteps, type ChainFacts } from '../onboarding/chain.js';
import type { Profile } from '../onboarding/profile.js';
import type { OnboardingQueue } from '../workers/queue.js';
import { jobIdFor } from '../workers/queue.js';
import type { CustomerRecord, OnboardingStore } from '../workers/onboarding-store.js';
import type { StepName } from '../onboarding/chain.js';

/**
 * Healing (docs/reconcile.md "Healing a record"): a tenant that carries our customer_id while
 * our record is lost, or says queued, running or failed with no job to carry it on, gets its
 * record rebuilt from what the API shows, recorded as onboarded.
 */

const LIVE_JOB_STATES = new Set(['active', 'waiting', 'delayed', 'prioritized', 'waiting-children']);

/** Whether a step job of the customer's chain is still to run or running: then the chain carries on, no healing. */
export async function chainInFlight(queue: OnboardingQueue, key: string, record: CustomerRecord): Promise<boolean> {
  const steps = (record.steps?.split(',').filter(Boolean) ?? []) as StepName[];
  for (const step of steps) {
    const job = await queue.getJob(jobIdFor(key, step));
    if (job && LIVE_JOB_STATES.has(await job.getState())) return true;
  }
  return false;
}

/** Whether the record may be rebuilt: lost, failed, or queued/running with no job in flight. */
export async function needsHealing(
  queue: OnboardingQueue,
  key: string,
  record: CustomerRecord | undefined,
): Promise<boolean> {
  if (!record) return true;
  if (record.state === 'done') return false;
  if (record.state === 'failed') return true;
  return !(await chainInFlight(queue, key, record));
}

/** The admin: the user the record names, else the one with the login it names, else the first company admin. */
export function adminOf(users: readonly ListedUser[], facts: ChainFacts): ListedUser | undefined {
  const live = users.filter((u) => !u.deleted_at);
  return (
    live.find((u) => u.id === facts.userId) ??
    live.find((u) => facts.login !== undefined && u.login === facts.login) ??
    live.find((u) => (u.access_policies ?? []).some((p) => p.role_id === 'company_admin')) ??
    live[0]
  );
}

/** The facts the API shows, over those the record kept (own quotas, a sealed token, intents). */
export function factsFromApi(
  profile: Profile,
  kept: ChainFacts,
  tenant: ListedTenant,
  items: readonly OfferingItem[],
  admin: ListedUser | undefined,
): ChainFacts {
  const enabled = items.filter((i) => i.status === 1);
  const edition = enabled.find((i) => i.edition !== null)?.edition ?? kept.edition ?? null;
  const activation: ChainFacts['activation'] = admin?.activated
    ? 'already-activated'
    : profile.activation === 'email'
      ? // Whether an e-mail went out is unknown: unconfirmed, so resend-activation may send one.
        'email-unconfirmed'
      : (kept.activation ?? 'not-requested');
  return {
    ...kept,
    tenantId: tenant.id,
    tenantCreated: kept.tenantCreated ?? false,
    edition,
    offeringItemsEnabled: enabled.length,
    ...(tenant.pricing_mode ? { pricingMode: tenant.pricing_mode } : {}),
    ...(admin
      ? {
          userId: admin.id,
          userCreated: kept.userCreated ?? false,
          login: admin.login,
          personalTenantId: admin.personal_tenant_id ?? null,
          roles: (admin.access_policies ?? []).filter((p) => p.tenant_id === tenant.id).map((p) => p.role_id),
          activation,
        }
      : {}),
  };
}

export interface HealInput {
  key: string;
  record: CustomerRecord | undefined;
  /** Where a lost record goes: the batch that listed it, else one made for the sweep. */
  batchId: string;
  position: number;
  tenant: ListedTenant;
  items: readonly OfferingItem[];
  admin: ListedUser | undefined;
  /** The partner whose tenants showed it, recorded with a lost record rebuilt (several partners). */
  partner?: string;
}

export async function healRecord(store: OnboardingStore, profile: Profile, input: HealInput): Promise<ChainFacts> {
  const facts = factsFromApi(profile, input.record?.facts ?? {}, input.tenant, input.items, input.admin);
  await store.healRecord({
    key: input.key,
    batchId: input.record?.batchId ?? input.batchId,
    position: input.position,
    name: input.record?.name || input.tenant.name,
    steps: plannedSteps(profile),
    facts,
    ...(input.partner ? { partner: input.partner } : {}),
  });
  return facts;
}
