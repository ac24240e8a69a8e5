import type { OfferingItem, OfferingItemChange } from '../acronis/offering-items.js';
import { OfferingPlanError, planFromTemplate, planOfferingItems } from '../onboarding/offering-plan.js';
import { profileEditionFor, type Profile } from '../onboarding/profile.js';
import type { ActionRecord } from '../workers/action-store.js';
import type { CustomerRecord } from '../workers/onboarding-store.js';

/**
 * What one customer's tenant should be: its profile's plan for the customer's edition with the
 * customer's own quotas, exactly as the onboarding computes it (src/onboarding/offering-plan.ts),
 * and enabled unless a suspend or offboard of ours says otherwise.
 */
export interface Expectation {
  edition: string;
  /** The items to be on, with their quotas (none: whatever the API gives, unlimited). */
  items: OfferingItemChange[];
  /** The one storage's infra, when the plan enables one. */
  storageInfraId: string | undefined;
  /** The profile's plan could not be made (the partner's offer changed): items left uncompared. */
  planProblem?: string;
  enabled: boolean;
  /** Why the tenant is expected disabled (the action that disabled it). */
  disabledBy?: string;
}

export interface ExpectationDeps {
  partnerTenantId: string;
  offers: {
    availableForChild(partnerTenantId: string, edition: string): Promise<OfferingItem[]>;
    enabledItemsOf(templateTenantId: string): Promise<OfferingItem[]>;
  };
}

/** The customer's edition: the one recorded when it is among the profile's, else the profile's first. */
export function expectedEdition(profile: Profile, record: CustomerRecord): string {
  const recorded = record.facts.edition;
  return profileEditionFor(profile, recorded && (profile.editions as string[]).includes(recorded) ? recorded : null);
}

export async function expectationFor(
  deps: ExpectationDeps,
  profile: Profile,
  record: CustomerRecord,
  actions: readonly ActionRecord[],
): Promise<Expectation> {
  const edition = expectedEdition(profile, record);
  const state = enabledState(actions);
  try {
    const items = await plannedItems(deps, profile, edition, record);
    const storage = items.find((i) => i.infra_id !== undefined)?.infra_id;
    return { edition, items, storageInfraId: storage, ...state };
  } catch (err) {
    if (!(err instanceof OfferingPlanError)) throw err;
    return { edition, items: [], storageInfraId: undefined, planProblem: err.message, ...state };
  }
}

function plannedItems(
  deps: ExpectationDeps,
  profile: Profile,
  edition: string,
  record: CustomerRecord,
): Promise<OfferingItemChange[]> {
  const template = profile.template_tenant_id;
  if (template) return deps.offers.enabledItemsOf(template).then((items) => planFromTemplate(items, template));
  return deps.offers.availableForChild(deps.partnerTenantId, edition).then((available) =>
    planOfferingItems({
      available,
      profile,
      edition,
      ...(record.facts.ownQuotas ? { customerQuotas: record.facts.ownQuotas } : {}),
    }),
  );
}

/** Disabled when the latest suspend, resume or offboard that took effect was a suspend or an offboard. */
function enabledState(actions: readonly ActionRecord[]): { enabled: boolean; disabledBy?: string } {
  const latest = actions
    .filter((a) => ['suspend', 'resume', 'offboard'].includes(a.action))
    .filter((a) => ['done', 'pending-deletion', 'deleted'].includes(a.state))
    .sort((a, b) => (b.finishedAt ?? b.createdAt ?? '').localeCompare(a.finishedAt ?? a.createdAt ?? ''))[0];
  if (!latest || latest.action === 'resume') return { enabled: true };
  return { enabled: false, disabledBy: `${latest.action} ${latest.id}` };
}
