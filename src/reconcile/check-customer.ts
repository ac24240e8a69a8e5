import type { ListedTenant } from '../acronis/tenant-listing.js';
import type { Profile } from '../onboarding/profile.js';
import type { ActionStore } from '../workers/action-store.js';
import type { OnboardingStore } from '../workers/onboarding-store.js';
import type { ListedUser } from '../acronis/user-listing.js';
import { compareCustomer, funnelOf, type Observed } from './compare.js';
import type { CustomerDrift, Difference } from './drift.js';
import { expectationFor, type ExpectationDeps } from './expected.js';
import { adminOf, healRecord } from './heal.js';
import type { ScopedCustomer, SweepPartner } from './scope.js';

export interface CheckDeps extends ExpectationDeps {
  store: OnboardingStore;
  actions: ActionStore;
  profile: Profile;
  /** With several partners: whose tenants are read; findings and rebuilt records name it. */
  partner?: SweepPartner;
}

/** What the sweep's pages showed of one tenant besides the tenant itself (its items come inline). */
export interface SeenDetails {
  /** The tenant's users with their roles, from the users listing. */
  users: readonly ListedUser[];
  /** From the batched usages read, or known from an earlier sweep. */
  agentRegistered: boolean;
}

export interface CheckOutcome {
  drift: CustomerDrift | undefined;
  healed: boolean;
}

/**
 * One customer against its profile, from what the sweep's pages showed (no call of its own): its
 * record healed first when it may be, then every difference in words. A
 * customer whose tenant we deleted (offboard) or that never got one is not checked.
 */
export async function checkCustomer(
  deps: CheckDeps,
  customer: ScopedCustomer,
  tenant: ListedTenant | undefined,
  seen: SeenDetails,
  healBatchId: () => Promise<string>,
): Promise<CheckOutcome> {
  const { key, record } = customer;
  const actions = await deps.actions.customerActions(key, 20);
  if (actions.some((a) => a.action === 'offboard' && a.state === 'deleted')) return { drift: undefined, healed: false };
  const live = tenant && !tenant.deleted_at ? tenant : undefined;
  if (!live) {
    // Only a record that says onboarded expects a tenant; a failed or lost one without a tenant is no drift.
    if (!record || record.state !== 'done') return { drift: undefined, healed: false };
    return {
      drift: finding(
        customer,
        undefined,
        compareCustomer(deps.profile, await expectationOf(deps, record, actions), emptyObserved(), record.facts),
        emptyObserved(),
        deps.partner,
      ),
      healed: false,
    };
  }
  const items = live.offering_items ?? [];
  const { users } = seen;
  let facts = record?.facts ?? {};
  const healed = customer.heal;
  if (healed) {
    const batchId = customer.listedIn?.batchId ?? (await healBatchId());
    const position = customer.listedIn?.position ?? Date.now();
    facts = await healRecord(deps.store, deps.profile, {
      key,
      record,
      batchId,
      position,
      tenant: live,
      items,
      admin: adminOf(users, facts),
      ...(deps.partner ? { partner: deps.partner.name } : {}),
    });
  }
  const admin = facts.userId ? users.find((u) => u.id === facts.userId && !u.deleted_at) : undefined;
  const observed: Observed = { tenant: live, items, admin, agentRegistered: seen.agentRegistered };
  const current = (await deps.store.getCustomer(key)) ?? record;
  if (!current) return { drift: undefined, healed };
  const differences = compareCustomer(deps.profile, await expectationOf(deps, current, actions), observed, facts);
  if (healed) differences.unshift(healedDifference(record?.state));
  return { drift: finding({ ...customer, record: current }, live, differences, observed, deps.partner), healed };
}

function expectationOf(
  deps: CheckDeps,
  record: NonNullable<ScopedCustomer['record']>,
  actions: Parameters<typeof expectationFor>[3],
) {
  return expectationFor(deps, deps.profile, record, actions);
}

function emptyObserved(): Observed {
  return { tenant: undefined, items: [], admin: undefined, agentRegistered: false };
}

function healedDifference(state: string | undefined): Difference {
  const said = state ?? 'nothing (the record was lost)';
  return {
    kind: 'record-healed',
    field: 'record',
    expected: 'done',
    actual: state ?? 'missing',
    text: `the tenant exists with this customer_id but our record said ${said}: rebuilt from the API as onboarded`,
  };
}

function finding(
  customer: ScopedCustomer,
  tenant: ListedTenant | undefined,
  differences: Difference[],
  observed: Observed,
  partner: SweepPartner | undefined,
): CustomerDrift {
  const { record } = customer;
  const tenantId = tenant?.id ?? record?.facts.tenantId;
  return {
    customerId: customer.key,
    name: record?.name || tenant?.name || customer.key,
    ...(record?.batchId ? { batchId: record.batchId } : {}),
    ...(tenantId ? { tenantId } : {}),
    ...(partner ? { partner: partner.name } : {}),
    checkedAt: Date.now(),
    differences,
    funnel: funnelOf(observed),
  };
}
