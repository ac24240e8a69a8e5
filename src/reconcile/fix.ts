import type { Requester } from '../lifecycle/action.js';
import type { Profile } from '../onboarding/profile.js';
import { checkActions, enqueueActions, type ActionEnqueueDeps } from '../workers/enqueue-action.js';
import { resendToCustomer, type ResendDeps } from '../workers/resend-activation.js';
import type { DriftKind } from './drift.js';
import type { DriftStore } from './drift-store.js';
import { expectedEdition } from './expected.js';

/**
 * `reconcile --fix` for one customer (docs/reconcile.md "What --fix does"): the differences a
 * change cures are queued as one lifecycle `change` with the profile (through its checks and
 * queue), an admin never activated gets the activation e-mail again, and the rest is told, not
 * done: --fix never deletes, never resumes a disabled tenant and never makes a tenant or a user.
 */
export interface FixDeps {
  enqueue: ActionEnqueueDeps;
  resend: ResendDeps;
  profile: Profile;
  drifts: DriftStore;
}

export interface FixOutcome {
  customerId: string;
  /** The change queued, when one was. */
  queued?: { actionId: string; batchId: string };
  /** What resending the activation e-mail did. */
  resent?: string;
  /** Why the change was refused (the lifecycle's checks), per field. */
  refused: string[];
  /** Differences left for a person, each with what to do. */
  left: { kind: DriftKind; reason: string }[];
}

/** Kinds one `change` with the profile cures (items, quotas, edition, storage, production pricing, roles, two-factor). */
const CHANGE_CURES: ReadonlySet<DriftKind> = new Set([
  'pricing',
  'edition',
  'offering-items',
  'quota',
  'storage',
  'admin-role',
  'mfa',
]);

const LEFT_REASONS: Partial<Record<DriftKind, (key: string) => string>> = {
  'tenant-disabled': (key) =>
    `a disabled tenant is not resumed by --fix (someone disabled it): run "acronis-onboard resume ${key}" if it should be enabled`,
  'tenant-enabled': (key) =>
    `enabled again outside acronis-onboard after our suspend: run "acronis-onboard suspend ${key}" if it should stay suspended`,
  'tenant-missing': () => 'no tenant carries this customer_id: --fix never creates one; import the customer again',
  'admin-missing': () => 'the admin user is gone: --fix never creates users; create one in the console',
  'no-agent': () =>
    "nothing to fix here: an agent is installed on a machine (see the customer's install commands in results)",
};

export async function enqueueFix(deps: FixDeps, customerId: string, requester: Requester): Promise<FixOutcome> {
  const outcome: FixOutcome = { customerId, refused: [], left: [] };
  const drift = await deps.drifts.get(customerId);
  if (!drift) return { ...outcome, refused: ['no finding for this customer: run reconcile first'] };
  const kinds = new Set(drift.differences.map((d) => d.kind));
  if ([...kinds].some((k) => CHANGE_CURES.has(k)))
    await queueChange(deps, customerId, requester, outcome, kinds.has('admin-role'));
  if (kinds.has('admin-not-activated')) await resend(deps, customerId, outcome);
  for (const kind of kinds) {
    const reason = LEFT_REASONS[kind];
    if (reason) outcome.left.push({ kind, reason: reason(customerId) });
  }
  return outcome;
}

async function queueChange(
  deps: FixDeps,
  key: string,
  requester: Requester,
  outcome: FixOutcome,
  reapplyRoles: boolean,
): Promise<void> {
  const open = await deps.enqueue.actions.openActions(key);
  const pending = open.find((a) => a.action === 'change');
  if (pending) {
    outcome.refused.push(`change ${pending.id} is already ${pending.state} for this customer`);
    return;
  }
  const record = await deps.enqueue.store.getCustomer(key);
  const edition = record ? expectedEdition(deps.profile, record) : undefined;
  const request = {
    customer: key,
    action: 'change' as const,
    params: { profile: deps.profile, ...(edition ? { edition } : {}), ...(reapplyRoles ? { reapplyRoles } : {}) },
    requester,
  };
  const { accepted, problems } = await checkActions(deps.enqueue, [request]);
  outcome.refused.push(...problems.map((p) => `${p.field}: ${p.reason}`));
  if (accepted.length === 0) return;
  const queued = await enqueueActions(
    deps.enqueue,
    { action: 'change', source: 'reconcile', label: 'reconcile --fix' },
    accepted,
  );
  const [action] = queued.actions;
  if (action) outcome.queued = { actionId: action.id, batchId: queued.batchId };
}

async function resend(deps: FixDeps, key: string, outcome: FixOutcome): Promise<void> {
  if (deps.profile.activation !== 'email') {
    outcome.left.push({
      kind: 'admin-not-activated',
      reason: `the profile's activation is ${deps.profile.activation}: no e-mail to resend`,
    });
    return;
  }
  const sent = await resendToCustomer(deps.resend, key);
  outcome.resent = sent.outcome;
  if (sent.outcome === 'not-eligible')
    outcome.left.push({
      kind: 'admin-not-activated',
      reason: `no activation e-mail resent: the record's activation is ${sent.activation}`,
    });
}
