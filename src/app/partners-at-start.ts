import { AcronisApiError } from '../acronis/errors.js';
import { loadProfile, type Profile } from '../onboarding/profile.js';
import type { PartnerRefusals } from '../partners/partner-refusal.js';
import type { Partner } from '../partners/partner-set.js';
import type { App } from './app.js';
import { checkProfileOffer, type OnboardingSetup, type SetupOptions } from './onboarding-setup.js';

/**
 * `work` with several partners (docs/commands.md "A partner refused"): every partner is asked at
 * once, once — a token, its tenant, its profile against its offer — and none is waited for. A
 * partner refused or not answering is said once and its customers' steps wait; the others are
 * served from the start. A profile its offer cannot satisfy still stops the start (exit 2): that
 * is the configuration, for every customer of the partner, and no wait mends it.
 */
export interface PartnersSetup extends Omit<OnboardingSetup, 'partnerTenantId'> {
  /** The default partner's tenant; undefined when it did not answer at start. */
  partnerTenantId: string | undefined;
}

export async function prepareEveryPartner(
  app: App,
  opts: SetupOptions,
  refusals: PartnerRefusals,
): Promise<PartnersSetup> {
  const path = opts.profilePath ?? app.defaultPartnerProfilePath ?? app.config.ONBOARDING_PROFILE;
  const profileSource = opts.profile ? 'given' : (path ?? 'built-in standard');
  const profile = opts.profile ?? (await loadProfile(path));
  const setup = { profile, profileSource };
  const tenants = await Promise.all(app.partners.all.map((p) => preparePartner(app, p, setup, opts, refusals)));
  const partnerTenantId = tenants[app.partners.all.indexOf(app.partners.default)];
  return { ...setup, partnerTenantId };
}

async function preparePartner(
  app: App,
  partner: Partner,
  setup: { profile: Profile; profileSource: string },
  opts: SetupOptions,
  refusals: PartnerRefusals,
): Promise<string | undefined> {
  const lane = app.lane(partner.name);
  const own = partner === app.partners.default ? undefined : partner.profilePath;
  try {
    await lane.acronis.tokens.get();
    const partnerTenantId = await lane.partnerTenantId();
    if (opts.checkProfile !== false) {
      const profile = opts.profile ?? (own ? await loadProfile(own) : setup.profile);
      await checkProfileOffer(profile, own ?? setup.profileSource, partnerTenantId, lane.offers);
    }
    return partnerTenantId;
  } catch (err) {
    if (!(err instanceof AcronisApiError)) throw err;
    refusals.refused(partner.name, err);
    return undefined;
  }
}
