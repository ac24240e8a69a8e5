import { createAcronisClient, type AcronisClient } from '../acronis/client.js';
import type { RequestBudget } from '../acronis/request-budget.js';
import { readNamedSecrets, requireConfig, type Config } from '../config.js';
import { loadPartnersFile } from '../partners/partners-file.js';
import type { DataCenter, Partner, PartnerSet } from '../partners/partner-set.js';
import { LockGuardedThrottle } from '../workers/job-lock-guard.js';
import { OfferingCache } from '../workers/offering-cache.js';
import type { OnboardingQueue } from '../workers/queue.js';
import type { App } from './app.js';

/** What a data centre's partners share (docs/partners.md): one step queue, one request budget. */
export interface DataCenterParts {
  dataCenter: DataCenter;
  queue: OnboardingQueue;
  budget: RequestBudget;
}

/** PARTNERS_FILE, with the variables it names read from `env` (default: the process's). */
export function loadPartners(config: Config, env?: Readonly<Record<string, string | undefined>>): Promise<PartnerSet> {
  const file = config.PARTNERS_FILE as string;
  return loadPartnersFile(file, {
    rateLimit: config.ACRONIS_RATE_LIMIT,
    ...(config.ACRONIS_RATE_CEILING !== undefined ? { rateCeiling: config.ACRONIS_RATE_CEILING } : {}),
    secret: (name) => readNamedSecrets([name], env as Record<string, string | undefined> | undefined)[name],
  });
}

/**
 * One partner's way to the API: its client (its own token cache, per data centre and client),
 * its data centre's budget and queue, its offering cache and its tenant. Made once per app.
 */
export class PartnerLane {
  private memo: { acronis?: AcronisClient; offers?: OfferingCache; tenant?: Promise<string> } = {};

  constructor(
    readonly partner: Partner,
    private readonly parts: DataCenterParts,
    private readonly app: App,
  ) {}

  get name(): string {
    return this.partner.name;
  }

  get dataCenter(): DataCenter {
    return this.parts.dataCenter;
  }

  get queue(): OnboardingQueue {
    return this.parts.queue;
  }

  get budget(): RequestBudget {
    return this.parts.budget;
  }

  /** The data-centre URL agents register with, for install commands. */
  get dataCenterUrl(): string {
    return this.partner.dataCenterUrl;
  }

  /** The API client: the shared token cache, every request through the data centre's budget and the job-lock guard. */
  get acronis(): AcronisClient {
    if (this.memo.acronis) return this.memo.acronis;
    const { app, partner } = this;
    const c = requireConfig(app.config, ['SECRETS_KEY'], 'to call the Acronis API');
    // With several partners /metrics labels each call with the partner whose client made it.
    const metrics = app.partners.several ? app.callMetrics.forPartner(partner.name) : app.callMetrics;
    return (this.memo.acronis = createAcronisClient({
      baseUrl: partner.dataCenterUrl,
      clientId: partner.clientId,
      clientSecret: partner.clientSecret,
      redis: app.redis,
      box: app.box,
      tokenKeys: app.keys.tokenCache(partner.dataCenterUrl, partner.clientId, partner.clientSecret),
      timeoutMs: c.ACRONIS_TIMEOUT_MS,
      throttle: new LockGuardedThrottle(metrics.countingGrants(this.budget)),
      observer: metrics,
      logger: app.partners.several ? app.logger.child({ partner: partner.name }) : app.logger,
    }));
  }

  /** The partner's offer, cached in Redis per partner tenant and edition. */
  get offers(): OfferingCache {
    return (this.memo.offers ??= new OfferingCache({
      redis: this.app.redis,
      keys: this.app.keys,
      acronis: this.acronis,
    }));
  }

  /** The partner tenant that receives its customers: configured, or the API client's own tenant. */
  partnerTenantId(): Promise<string> {
    const configured = this.partner.parentTenantId;
    this.memo.tenant ??= configured
      ? Promise.resolve(configured)
      : this.acronis.getApiClient(this.acronis.clientId).then((client) => client.tenant_id);
    this.memo.tenant.catch(() => (this.memo.tenant = undefined));
    return this.memo.tenant;
  }
}
