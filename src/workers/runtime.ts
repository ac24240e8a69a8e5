import type { Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createAcronisClientFromConfig, type AcronisClient } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import { RequestBudget } from '../acronis/request-budget.js';
import { requireConfig, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import { checkProfileAgainstOffer } from '../onboarding/offering-plan.js';
import { loadProfile, ProfileError, type Profile } from '../onboarding/profile.js';
import type { ChainData, StepName } from '../onboarding/chain.js';
import { buildStepCatalogue } from '../onboarding/steps/index.js';
import { createRedis, connectOrExplain } from '../redis.js';
import { createSecretBox, type SecretBox } from '../secrets/secret-box.js';
import { enqueueCustomers, type EnqueueResult } from './enqueue.js';
import { LockGuardedThrottle } from './job-lock-guard.js';
import { OfferingCache } from './offering-cache.js';
import { OnboardingStore } from './onboarding-store.js';
import { createOnboardingQueue } from './queue.js';
import { createStepWorker } from './step-worker.js';
import type { CustomerRequest } from '../onboarding/customer-request.js';

/**
 * Wiring for the processes of the pipeline, from the environment contract: what producers
 * and the CLI need (`openPipeline`), and what a worker process runs (`startWorkers`).
 */
export interface Pipeline {
  config: Config;
  redis: Redis;
  queue: Queue<ChainData, unknown, StepName>;
  store: OnboardingStore;
  box: SecretBox;
  close(): Promise<void>;
}

/** Redis, the queue and the store: enough to enqueue, read status and retry. */
export async function openPipeline(config: Config): Promise<Pipeline> {
  const c = requireConfig(config, ['SECRETS_KEY'], 'to keep passwords and tokens sealed in Redis');
  const redis = await connectOrExplain(createRedis(config.REDIS_URL, 'fail-fast'), config.REDIS_URL);
  const queue = createOnboardingQueue(redis, config.QUEUE_PREFIX, {
    attempts: config.STEP_ATTEMPTS,
    backoffMs: config.STEP_BACKOFF_MS,
  });
  queue.on('error', () => undefined);
  return {
    config,
    redis,
    queue,
    store: new OnboardingStore({ redis, prefix: config.QUEUE_PREFIX }),
    box: createSecretBox(c.SECRETS_KEY),
    async close() {
      await queue.close();
      redis.disconnect();
    },
  };
}

/** The partner tenant that receives customers: configured, or the API client's own tenant. */
export async function resolvePartnerTenantId(
  config: Config,
  acronis: Pick<AcronisClient, 'getApiClient' | 'clientId'>,
): Promise<string> {
  return config.ACRONIS_PARENT_TENANT_ID ?? (await acronis.getApiClient(acronis.clientId)).tenant_id;
}

/** Enqueues with the configured profile and partner (what `import` and the webhook do). */
export async function enqueueWithConfig(
  pipeline: Pipeline,
  deps: { profile: Profile; partnerTenantId: string },
  batch: { source: string; label: string } | { id: string },
  requests: readonly CustomerRequest[],
): Promise<EnqueueResult> {
  return enqueueCustomers({ ...pipeline, ...deps }, batch, requests);
}

export interface RunningWorkers {
  worker: Worker<ChainData, unknown, StepName>;
  acronis: AcronisClient;
  budget: RequestBudget;
  profile: Profile;
  partnerTenantId: string;
  /** Stops taking jobs, lets in-flight steps finish within `timeoutMs`, then stops them and closes connections. */
  close(timeoutMs?: number): Promise<{ forced: boolean }>;
}

export interface StartWorkersOptions {
  logger: Logger;
  /** Overrides ONBOARDING_PROFILE (tests). */
  profile?: Profile;
  /** Check the profile against the partner's offer before taking jobs (default true). */
  checkProfile?: boolean;
}

export async function startWorkers(config: Config, opts: StartWorkersOptions): Promise<RunningWorkers> {
  const c = requireConfig(
    config,
    ['ACRONIS_BASE_URL', 'ACRONIS_CLIENT_ID', 'ACRONIS_CLIENT_SECRET', 'SECRETS_KEY'],
    'to run workers',
  );
  const catalogue = buildStepCatalogue();
  const profile = opts.profile ?? (await loadProfile(config.ONBOARDING_PROFILE));
  const logger = opts.logger;

  const shared = await connectOrExplain(
    createRedis(config.REDIS_URL, 'worker', { lazyConnect: true }),
    config.REDIS_URL,
  );
  const blocking = createRedis(config.REDIS_URL, 'worker');
  const budget = new RequestBudget({
    redis: shared,
    key: `${config.QUEUE_PREFIX}:acronis:budget`,
    perSecond: config.ACRONIS_RATE_LIMIT,
    logger,
  });
  const acronis = createAcronisClientFromConfig(config, {
    redis: shared,
    logger,
    throttle: new LockGuardedThrottle(budget),
  });
  const box = createSecretBox(c.SECRETS_KEY);
  const queue = createOnboardingQueue(shared, config.QUEUE_PREFIX, {
    attempts: config.STEP_ATTEMPTS,
    backoffMs: config.STEP_BACKOFF_MS,
  });
  queue.on('error', (err) => logger.error({ err: err.message }, 'queue error'));
  const store = new OnboardingStore({ redis: shared, prefix: config.QUEUE_PREFIX });
  const offers = new OfferingCache({ redis: shared, prefix: config.QUEUE_PREFIX, acronis });

  let partnerTenantId: string;
  try {
    partnerTenantId = await resolvePartnerTenantId(config, acronis);
    if (opts.checkProfile !== false) {
      await checkProfileOffer(
        profile,
        opts.profile ? 'given' : (config.ONBOARDING_PROFILE ?? 'built-in standard'),
        partnerTenantId,
        offers,
      );
    }
  } catch (err) {
    // Nothing started yet: release the connections so the process can exit with the reason.
    await queue.close();
    blocking.disconnect();
    shared.disconnect();
    throw err;
  }

  const worker = createStepWorker({
    connection: blocking,
    prefix: config.QUEUE_PREFIX,
    queue,
    store,
    catalogue,
    acronis,
    budget,
    offers,
    box,
    logger,
    dataCenterUrl: c.ACRONIS_BASE_URL,
    concurrency: config.WORKER_CONCURRENCY,
    requestsPerSecond: config.ACRONIS_RATE_LIMIT,
    lockDurationMs: config.JOB_LOCK_MS,
  });
  void worker.run();
  await worker.waitUntilReady();
  logger.info(
    {
      concurrency: config.WORKER_CONCURRENCY,
      rateLimit: config.ACRONIS_RATE_LIMIT,
      profile: profile.name,
      partnerTenantId,
    },
    'workers started',
  );

  return {
    worker,
    acronis,
    budget,
    profile,
    partnerTenantId,
    async close(timeoutMs = config.SHUTDOWN_TIMEOUT_MS) {
      // worker.close() waits for active jobs with no time limit (BULLMQ-NOTES.md §1.7).
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const outcome = await Promise.race([worker.close().then(() => 'closed' as const), timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        logger.warn(
          { timeoutMs },
          'in-flight steps did not finish in time; stopping them (they will run again elsewhere)',
        );
        await worker.close(true);
      }
      await queue.close();
      blocking.disconnect();
      shared.disconnect();
      return { forced: outcome === 'timeout' };
    },
  };
}

/** An invalid profile stops the start with the field named, before any customer runs into it. */
export async function checkProfileOffer(
  profile: Profile,
  source: string,
  partnerTenantId: string,
  offers: OfferingCache,
): Promise<void> {
  const template = profile.template_tenant_id;
  if (template) {
    let items;
    try {
      items = await offers.enabledItemsOf(template);
    } catch (err) {
      if (err instanceof AcronisApiError && !err.retryable)
        throw new ProfileError('template_tenant_id', `tenant ${template} cannot be read: ${err.message}`, source);
      throw err;
    }
    if (!items.some((i) => i.status === 1))
      throw new ProfileError('template_tenant_id', `tenant ${template} has no enabled offering items to copy`, source);
    return;
  }
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
