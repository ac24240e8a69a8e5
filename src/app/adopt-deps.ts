import type { AdoptDeps } from '../adopt/adopt-run.js';
import { loadProfile } from '../onboarding/profile.js';
import type { App } from './app.js';
import { prepareOnboarding } from './onboarding-setup.js';

/**
 * What `adopt` needs from the app (the CLI and the demo ask alike): the API client, the enqueue
 * the imports use with the install's profile (an adoption's chain carries it; nothing applies it
 * unless asked), and the lifecycle's enqueue for `--apply-profile`.
 */
export async function openAdopt(app: App): Promise<AdoptDeps> {
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
