import type { AdoptDeps } from '../adopt/adopt-run.js';
import { loadProfile } from '../onboarding/profile.js';
import type { EnqueueDeps } from '../workers/enqueue.js';
import type { App } from './app.js';
import { prepareOnboarding } from './onboarding-setup.js';

/**
 * What `adopt` needs from the app (the CLI and the demo ask alike): the API client, the enqueue
 * the imports use with the install's profile (an adoption's chain carries it; nothing applies it
 * unless asked), and the lifecycle's enqueue for `--apply-profile`. `partner` (`adopt --partner`):
 * that partner's children, through its own lane, adopted as its customers (docs/adopt.md).
 */
export async function openAdopt(app: App, partner?: string): Promise<AdoptDeps> {
  if (partner !== undefined) return openPartnerAdopt(app, partner);
  // The profile is checked against the partner's offer only when applied (the change's own check).
  const setup = await prepareOnboarding(app, { checkProfile: false });
  return {
    acronis: app.acronis,
    enqueue: {
      queue: app.queue,
      store: app.store,
      box: app.box,
      profile: setup.profile,
      partnerTenantId: setup.partnerTenantId,
    },
    actions: await app.actionEnqueueDeps(),
    loadProfile,
  };
}

async function openPartnerAdopt(app: App, partnerName: string): Promise<AdoptDeps> {
  const lane = app.lane(partnerName);
  const profile = await loadProfile(lane.partner.profilePath ?? app.config.ONBOARDING_PROFILE);
  const home = { queue: lane.queue, partnerTenantId: await lane.partnerTenantId(), profile };
  const enqueue: EnqueueDeps = {
    ...home,
    store: app.store,
    box: app.box,
    // Every row is the named partner's: its records say so (several partners).
    ...(app.partners.several ? { partners: { defaultName: lane.name, target: () => Promise.resolve(home) } } : {}),
  };
  return { acronis: lane.acronis, enqueue, actions: await app.actionEnqueueDeps(lane.name), loadProfile };
}
