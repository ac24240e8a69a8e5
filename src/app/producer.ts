import { loadProfile } from '../onboarding/profile.js';
import type { Producer } from '../producers/producer.js';
import { enqueueCustomers, type EnqueueDeps, type PartnerTarget } from '../workers/enqueue.js';
import type { App } from './app.js';
import { checkProfileOffer, prepareOnboarding, type OnboardingSetup, type SetupOptions } from './onboarding-setup.js';

/**
 * A producer over the app: the profile checked against the partner's offer, so an unusable
 * profile stops `import` or `serve` with the field named before a row is queued. With several
 * partners (docs/partners.md), another partner's tenant and profile are resolved, and its profile
 * checked against its offer, the first time one of its customers comes.
 */
export async function openProducer(app: App, opts: SetupOptions = {}): Promise<Producer> {
  const setup = await prepareOnboarding(app, opts);
  const deps: EnqueueDeps = {
    queue: app.queue,
    store: app.store,
    box: app.box,
    profile: setup.profile,
    partnerTenantId: setup.partnerTenantId,
    ...(app.partnerNames.length > 1 ? { partners: otherPartners(app, setup, opts) } : {}),
  };
  return {
    ...setup,
    store: app.store,
    queue: app.queue,
    partnerNames: app.partnerNames,
    defaultPartner: app.partners.default.name,
    enqueue: (batch, requests, o = {}) => enqueueCustomers(withProfile(deps, o.profile), batch, requests),
  };
}

/** A batch's own profile (a source's) replaces every partner's; each partner still checks it against its offer. */
function withProfile(deps: EnqueueDeps, profile: OnboardingSetup['profile'] | undefined): EnqueueDeps {
  if (!profile) return deps;
  const partners = deps.partners;
  return {
    ...deps,
    profile,
    ...(partners
      ? { partners: { ...partners, target: async (name: string) => ({ ...(await partners.target(name)), profile }) } }
      : {}),
  };
}

function otherPartners(app: App, setup: OnboardingSetup, opts: SetupOptions): NonNullable<EnqueueDeps['partners']> {
  const targets = new Map<string, Promise<PartnerTarget>>();
  const resolve = async (name: string): Promise<PartnerTarget> => {
    const lane = app.lane(name);
    const path = lane.partner.profilePath;
    const profile = opts.profile ?? (path ? await loadProfile(path) : setup.profile);
    const partnerTenantId = await lane.partnerTenantId();
    if (opts.checkProfile !== false)
      await checkProfileOffer(profile, path ?? setup.profileSource, partnerTenantId, lane.offers);
    return { queue: lane.queue, partnerTenantId, profile };
  };
  return {
    defaultName: app.partners.default.name,
    target: (name) => {
      let target = targets.get(name);
      if (!target) {
        target = resolve(name);
        // A failure (the API away, credentials refused) is asked again by the next customer.
        target.catch(() => targets.delete(name));
        targets.set(name, target);
      }
      return target;
    },
  };
}
