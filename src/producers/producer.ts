import type { CustomerRequest } from '../onboarding/customer-request.js';
import type { Profile } from '../onboarding/profile.js';
import type { EnqueueResult } from '../workers/enqueue.js';
import type { NewBatch, OnboardingStore } from '../workers/onboarding-store.js';
import type { OnboardingQueue } from '../workers/queue.js';

/**
 * What the CSV import and the webhook share: the profile customers are onboarded with (it
 * travels in each chain, so `import --profile` needs no worker restart), the partner tenant,
 * the store and queue to read, and the one enqueue function. `src/app/producer.ts` opens one.
 */
export interface Producer {
  profile: Profile;
  /** Where the profile came from, for messages: a path or "built-in standard". */
  profileSource: string;
  partnerTenantId: string;
  store: OnboardingStore;
  queue: OnboardingQueue;
  /** The partners a customer may name (docs/partners.md); the first is not necessarily the default. */
  partnerNames: readonly string[];
  /** The partner of a customer that names none. */
  defaultPartner: string;
  /** `opts.profile`: another profile than the producer's (a source's own), checked by the caller. */
  enqueue(
    batch: NewBatch | { id: string },
    requests: readonly CustomerRequest[],
    opts?: { profile?: Profile },
  ): Promise<EnqueueResult>;
}
