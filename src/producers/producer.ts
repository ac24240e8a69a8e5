import { createAcronisClientFromConfig } from '../acronis/client.js';
import { RequestBudget } from '../acronis/request-budget.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { CustomerRequest } from '../onboarding/customer-request.js';
import { loadProfile, type Profile } from '../onboarding/profile.js';
import type { EnqueueResult } from '../workers/enqueue.js';
import { OfferingCache } from '../workers/offering-cache.js';
import {
  checkProfileOffer,
  enqueueWithConfig,
  openPipeline,
  resolvePartnerTenantId,
  type Pipeline,
} from '../workers/runtime.js';

/**
 * What the CSV import and the webhook share: the pipeline, the profile the customers are
 * onboarded with (it travels in each chain, so `import --profile` needs no worker restart)
 * and the partner tenant. Opening one checks the profile against the partner's offer, so an
 * unusable profile stops the producer with the field named before a row is queued.
 */
export interface Producer {
  pipeline: Pipeline;
  profile: Profile;
  /** Where the profile came from, for messages: a path or "built-in standard". */
  profileSource: string;
  partnerTenantId: string;
  enqueue(
    batch: { source: string; label: string } | { id: string },
    requests: readonly CustomerRequest[],
  ): Promise<EnqueueResult>;
  close(): Promise<void>;
}

export interface OpenProducerOptions {
  logger: Logger;
  /** A profile file overriding ONBOARDING_PROFILE (`import --profile FILE`). */
  profilePath?: string;
  /** Skip the offer check (it costs one API call per edition, cached for 5 minutes). */
  checkProfile?: boolean;
}

export async function openProducer(config: Config, opts: OpenProducerOptions): Promise<Producer> {
  const profileSource = opts.profilePath ?? config.ONBOARDING_PROFILE ?? 'built-in standard';
  // The profile first: a bad file is reported without touching Redis or the API.
  const profile = await loadProfile(opts.profilePath ?? config.ONBOARDING_PROFILE);
  const pipeline = await openPipeline(config);
  try {
    // Producers make a handful of calls; they still count against the shared request budget.
    const budget = new RequestBudget({
      redis: pipeline.redis,
      key: `${config.QUEUE_PREFIX}:acronis:budget`,
      perSecond: config.ACRONIS_RATE_LIMIT,
      logger: opts.logger,
    });
    const acronis = createAcronisClientFromConfig(config, {
      redis: pipeline.redis,
      logger: opts.logger,
      throttle: budget,
    });
    const partnerTenantId = await resolvePartnerTenantId(config, acronis);
    if (opts.checkProfile !== false) {
      const offers = new OfferingCache({ redis: pipeline.redis, prefix: config.QUEUE_PREFIX, acronis });
      await checkProfileOffer(profile, profileSource, partnerTenantId, offers);
    }
    return {
      pipeline,
      profile,
      profileSource,
      partnerTenantId,
      enqueue: (batch, requests) => enqueueWithConfig(pipeline, { profile, partnerTenantId }, batch, requests),
      close: () => pipeline.close(),
    };
  } catch (err) {
    await pipeline.close();
    throw err;
  }
}
