import type { App } from '../app/app.js';
import { resendDeps } from '../app/operation-deps.js';
import type { Profile } from '../onboarding/profile.js';
import { DriftStore } from './drift-store.js';
import type { FixDeps } from './fix.js';
import type { SweepDeps } from './sweep.js';

/**
 * What a sweep needs, from the app: the CLI, the scheduler and the dashboard ask alike. The
 * profile is the install's (ONBOARDING_PROFILE or `--profile`): what its customers are checked against.
 */
export async function reconcileDeps(app: App, profile: Profile): Promise<SweepDeps> {
  const enqueue = await app.actionEnqueueDeps();
  return {
    acronis: app.acronis,
    store: app.store,
    actions: app.actions,
    queueFor: (partner) => app.queueFor(partner),
    drifts: new DriftStore(app.redis, app.keys),
    offers: app.offers,
    partnerTenantId: enqueue.partnerTenantId,
    profile,
    fix: { enqueue, resend: resendDeps(app) },
    logger: app.logger,
  };
}

/** What `enqueueFix` needs, from a sweep's dependencies (the Drift page's Fix button asks so). */
export function fixDepsOf(deps: SweepDeps): FixDeps {
  return { ...deps.fix, profile: deps.profile, drifts: deps.drifts };
}
