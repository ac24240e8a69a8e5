import { AcronisApiError } from '../acronis/errors.js';
import { checkProfileAgainstOffer } from '../onboarding/offering-plan.js';
import { loadProfile, ProfileError, type Profile } from '../onboarding/profile.js';
import type { OfferingCache } from '../workers/offering-cache.js';
import type { App } from './app.js';
import { retryAtStart, type StartRetryOptions } from './start-retry.js';

/** What producers and workers agree on before any customer moves: the profile and the partner tenant. */
export interface OnboardingSetup {
  profile: Profile;
  /** Where the profile came from, for messages: a path, "given" or "built-in standard". */
  profileSource: string;
  partnerTenantId: string;
}

export interface SetupOptions {
  /** A profile already loaded (tests); else `profilePath`, else ONBOARDING_PROFILE, else the built-in one. */
  profile?: Profile;
  profilePath?: string;
  /** Check the profile against the partner's offer (one API call per edition, cached); default true. */
  checkProfile?: boolean;
  /** Long-running commands: ask the API again while it is not up yet, until this stop signal. */
  retryUntil?: AbortSignal;
  /** One-shot commands: ask again while the answer is transient, for at most this long. */
  retryForMs?: number;
}

/** Loads the profile (a bad file is reported before Redis or the API is touched), resolves the partner, checks the offer. */
export async function prepareOnboarding(app: App, opts: SetupOptions = {}): Promise<OnboardingSetup> {
  const path = opts.profilePath ?? app.defaultPartnerProfilePath ?? app.config.ONBOARDING_PROFILE;
  const profileSource = opts.profile ? 'given' : (path ?? 'built-in standard');
  const profile = opts.profile ?? (await loadProfile(path));
  const resolve = async () => {
    // A token for these very credentials (the cache is kept per secret): refused ones stop the
    // start here, even when the partner and the offer need no call (both configured or cached).
    await app.acronis.tokens.get();
    const partnerTenantId = await app.partnerTenantId();
    if (opts.checkProfile !== false) await checkProfileOffer(profile, profileSource, partnerTenantId, app.offers);
    return partnerTenantId;
  };
  const retry = startRetry(app, opts);
  const what = `the Acronis API at ${app.config.PARTNERS_FILE ? app.dataCenterUrl : (app.config.ACRONIS_BASE_URL ?? 'ACRONIS_BASE_URL')}`;
  const partnerTenantId = await (retry ? retryAtStart(what, resolve, retry) : resolve());
  return { profile, profileSource, partnerTenantId };
}

function startRetry(app: App, opts: SetupOptions): StartRetryOptions | undefined {
  if (opts.retryUntil) return { logger: app.logger, stop: opts.retryUntil };
  // No stop signal: a one-shot command keeps Node's default, Ctrl-C ends it at once.
  if (opts.retryForMs !== undefined) return { logger: app.logger, giveUpAfterMs: opts.retryForMs };
  return undefined;
}

/** An unusable profile stops the start with the field named, before any customer runs into it. */
export async function checkProfileOffer(
  profile: Profile,
  source: string,
  partnerTenantId: string,
  offers: OfferingCache,
): Promise<void> {
  const template = profile.template_tenant_id;
  if (template) return checkTemplate(template, source, offers);
  const byEdition = Object.fromEntries(
    await Promise.all(
      profile.editions.map(
        async (edition) => [edition, await offers.availableForChild(partnerTenantId, edition)] as const,
      ),
    ),
  );
  const [problem] = checkProfileAgainstOffer(profile, byEdition);
  if (problem) throw new ProfileError(problem.field, problem.reason, source);
}

async function checkTemplate(template: string, source: string, offers: OfferingCache): Promise<void> {
  let items;
  try {
    items = await offers.enabledItemsOf(template);
  } catch (err) {
    if (err instanceof AcronisApiError && !err.retryable) {
      throw new ProfileError('template_tenant_id', `tenant ${template} cannot be read: ${err.message}`, source);
    }
    throw err;
  }
  if (!items.some((i) => i.status === 1)) {
    throw new ProfileError('template_tenant_id', `tenant ${template} has no enabled offering items to copy`, source);
  }
}
