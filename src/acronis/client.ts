import type { RedisConnection } from '../redis/connection.js';
import type { Logger } from '../logger.js';
import type { TokenCacheKeys } from '../redis/keys.js';
import type { SecretBox } from '../secrets/secret-box.js';
import { VERSION } from '../version.js';
import { createApiClient, getApiClient, issueToken, type IssuedAccessToken } from './auth.js';
import { getAvailableForChild, getOfferingItems, putOfferingItems } from './offering-items.js';
import { getPricing, setPricing } from './pricing.js';
import { createRegistrationToken, listRegistrationTokens } from './registration-tokens.js';
import { deleteTenant, getTenantMfa, setTenantMfa, switchEdition, updateTenant } from './tenant-lifecycle.js';
import { listTenantsPage } from './tenant-listing.js';
import { createTenant, getTenant, listChildTenants, search } from './tenants.js';
import { TokenCache } from './token-cache.js';
import { AcronisTransport, type CallObserver, type RequestThrottle } from './transport.js';
import { getTenantsUsages, getTenantUsages } from './usages.js';
import { listUsersPage } from './user-listing.js';
import {
  createUser,
  getUser,
  listTenantUserIds,
  sendActivationEmail,
  getAccessPolicies,
  setAccessPolicies,
  setUserPassword,
  updateUser,
} from './users.js';

/** Every endpoint function; the client binds them to one authenticated transport. */
const endpoints = {
  getApiClient,
  createApiClient,
  createTenant,
  getTenant,
  listChildTenants,
  search,
  getAvailableForChild,
  getOfferingItems,
  putOfferingItems,
  getPricing,
  setPricing,
  createUser,
  getUser,
  updateUser,
  listTenantUserIds,
  getAccessPolicies,
  setAccessPolicies,
  sendActivationEmail,
  setUserPassword,
  createRegistrationToken,
  listRegistrationTokens,
  getTenantUsages,
  getTenantsUsages,
  updateTenant,
  deleteTenant,
  switchEdition,
  getTenantMfa,
  setTenantMfa,
  listTenantsPage,
  listUsersPage,
};

type Bound<F> = F extends (api: AcronisTransport, ...args: infer A) => infer R ? (...args: A) => R : never;
export type AcronisEndpoints = { [K in keyof typeof endpoints]: Bound<(typeof endpoints)[K]> };

export interface AcronisClient extends AcronisEndpoints {
  readonly transport: AcronisTransport;
  readonly tokens: TokenCache;
  readonly clientId: string;
  readonly baseUrl: string;
  /**
   * Asks the data centre for a new token with the configured credentials, past the cache: what
   * `check` proves them with (a cached token says only that they worked when it was issued).
   */
  issueFreshToken(): Promise<IssuedAccessToken>;
}

export interface AcronisClientOptions {
  /** Data-centre URL, e.g. https://eu2-cloud.acronis.com. */
  baseUrl: string;
  clientId: string;
  clientSecret: string;
  /** Shared by every process: the token cache lives here. */
  redis: RedisConnection;
  /** Seals the cached access token (SECRETS_KEY). */
  box: SecretBox;
  /** Where the shared token lives: RedisKeys.tokenCache(baseUrl, clientId, clientSecret). */
  tokenKeys: TokenCacheKeys;
  timeoutMs?: number;
  throttle?: RequestThrottle;
  /** Every HTTP attempt, the token issue's included (the metrics). */
  observer?: CallObserver;
  logger?: Logger;
}

/** Acronis asks integrations to identify themselves so calls are recognisable in the audit log (docs/acronis-api.md §1). */
export const USER_AGENT = `acronis-onboard/${VERSION} (+customer onboarding integration for MSPs)`;

export function createAcronisClient(opts: AcronisClientOptions): AcronisClient {
  const common = {
    baseUrl: opts.baseUrl,
    timeoutMs: opts.timeoutMs,
    userAgent: USER_AGENT,
    logger: opts.logger,
    throttle: opts.throttle,
    observer: opts.observer,
  };
  const credentials = { clientId: opts.clientId, clientSecret: opts.clientSecret };
  // Token issue goes through a transport without a token source: /idp/token authenticates with the client secret.
  const issuer = new AcronisTransport(common);
  const tokens = new TokenCache({
    redis: opts.redis,
    box: opts.box,
    keys: opts.tokenKeys,
    issue: () => issueToken(issuer, credentials),
    // Longer than one token request may take, or a waiter could take over a slow but live issue.
    lockTtlMs: (opts.timeoutMs ?? 30_000) + 5_000,
    waitTimeoutMs: (opts.timeoutMs ?? 30_000) + 10_000,
    ...(opts.logger ? { logger: opts.logger } : {}),
  });
  const transport = new AcronisTransport({ ...common, tokens });
  const bound = Object.fromEntries(
    Object.entries(endpoints).map(([name, fn]) => [
      name,
      (...args: unknown[]) => (fn as (...a: unknown[]) => unknown)(transport, ...args),
    ]),
  ) as AcronisEndpoints;
  return {
    ...bound,
    transport,
    tokens,
    clientId: opts.clientId,
    baseUrl: opts.baseUrl,
    issueFreshToken: () => issueToken(issuer, credentials),
  };
}
