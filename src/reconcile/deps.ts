import type { App } from '../app/app.js';
import { resendDeps } from '../app/operation-deps.js';
import { loadProfile, type Profile } from '../onboarding/profile.js';
import { DriftStore } from './drift-store.js';
import type { FixDeps } from './fix.js';
import type { SweepDeps, SweepLane } from './sweep.js';

/**
 * What a sweep needs, from the app: the CLI, the scheduler and the dashboard ask alike. The
 * profile is the install's (ONBOARDING_PROFILE or `--profile`): what its customers are checked against.
 * `partner`: that partner's tenants through its own lane (docs/reconcile.md "Several partners").
 */
export async function reconcileDeps(app: App, profile: Profile, partner?: string): Promise<SweepDeps> {
  const lane = app.lane(partner);
  const enqueue = await app.actionEnqueueDeps(partner);
  const { partners } = app;
  return {
    acronis: lane.acronis,
    store: app.store,
    actions: app.actions,
    queueFor: (partner) => app.queueFor(partner),
    drifts: new DriftStore(app.redis, app.keys),
    offers: lane.offers,
    partnerTenantId: enqueue.partnerTenantId,
    profile,
    fix: { enqueue, resend: resendDeps(app) },
    logger: app.logger,
    ...(partners.several ? { partner: { name: lane.name, isDefault: lane.partner === partners.default } } : {}),
  };
}

/**
 * The partners a sweep reads, the default one first (a lost record it cannot place is left for
 * the others to find), or only the one named. A partner with a profile of its own in the partners
 * file is compared with that one; the others with `profile`.
 */
export async function sweepLanes(app: App, profile: Profile, only?: string): Promise<SweepLane[]> {
  const { partners } = app;
  if (!partners.several) {
    if (only !== undefined) partners.get(only);
    return [{ open: () => reconcileDeps(app, profile) }];
  }
  const chosen =
    only !== undefined
      ? [partners.get(only)]
      : [partners.default, ...partners.all.filter((p) => p !== partners.default)];
  return chosen.map((partner) => ({
    partner: partner.name,
    open: async () => {
      const own = partner !== partners.default ? partner.profilePath : undefined;
      return reconcileDeps(app, own ? await loadProfile(own) : profile, partner.name);
    },
  }));
}

/** What `enqueueFix` needs, from a sweep's dependencies (the Drift page's Fix button asks so). */
export function fixDepsOf(deps: SweepDeps): FixDeps {
  return { ...deps.fix, profile: deps.profile, drifts: deps.drifts };
}
