import { ConfigError, requireConfig, type Config } from '../config.js';
import { SourceIntakeStore } from '../sources/intake-store.js';
import type { DashboardDeps } from '../dashboard/dashboard.js';
import { isLoopbackHost, sessionKeyFrom, type SignInCredentials } from '../dashboard/sign-in.js';
import { batchResults } from '../workers/results.js';
import { resultsDeps } from './operation-deps.js';
import { loadProfile } from '../onboarding/profile.js';
import { fixDepsOf, reconcileDeps } from '../reconcile/deps.js';
import { enqueueFix } from '../reconcile/fix.js';
import type { App } from './app.js';

/**
 * The dashboards' sign-in from the Config. Both variables or neither; neither only while the
 * server is bound to loopback, because the dashboards reveal passwords and tokens and can retry
 * customers: `serve` refuses to start open to the network.
 */
export function dashboardCredentials(config: Config): SignInCredentials | undefined {
  const { DASHBOARD_USER: user, DASHBOARD_PASSWORD: password, HOST: host } = config;
  if (user && password) return { user, password };
  if (user || password) {
    const [missing, given] = user ? ['DASHBOARD_PASSWORD', 'DASHBOARD_USER'] : ['DASHBOARD_USER', 'DASHBOARD_PASSWORD'];
    throw new ConfigError([{ variable: missing!, reason: `is required with ${given} (the dashboard sign-in)` }]);
  }
  if (isLoopbackHost(host)) return undefined;
  throw new ConfigError([
    {
      variable: 'DASHBOARD_USER',
      reason: `and DASHBOARD_PASSWORD are required when HOST (${host}) is not a loopback address: the dashboards would be open to the network`,
    },
  ]);
}

/** What the dashboard plugin needs of the app; `credentials` from dashboardCredentials. */
export function dashboardDeps(app: App, credentials: SignInCredentials | undefined): DashboardDeps {
  const { config } = app;
  const c = requireConfig(config, ['SECRETS_KEY'], 'to keep the dashboard sessions sealed');
  return {
    store: app.store,
    writeBack: (key) => new SourceIntakeStore(app.redis, app.keys).writeBack(key),
    queues: app.queues,
    queueFor: (partner) => app.queueFor(partner),
    ...(app.partnerNames.length > 1
      ? {
          partners: {
            names: app.partnerNames,
            default: app.partners.default.name,
            // A record of a partner since taken out of the partners file still has a page.
            dataCenterOf: (partner: string) =>
              app.partners.has(partner) ? app.partners.get(partner).dataCenter : 'not in the partners file',
            dataCenters: app.partners.dataCenters.map((dc) => ({ id: dc.id, queueName: dc.queueName })),
          },
        }
      : {}),
    callbacks: app.callbacks,
    redis: app.redis,
    keys: app.keys,
    results: (batchId) => batchResults(resultsDeps(app), batchId),
    acronis: (partner) => (partner === undefined ? app.acronis : app.lane(partner).acronis),
    callMetrics: app.callMetrics,
    actions: app.actions,
    lifecycle: () => app.actionEnqueueDeps(),
    drift: app.drift,
    fix: async (customerId, requester) => {
      // The install's profile, read when asked, as `reconcile --fix` reads it.
      const profile = await loadProfile(config.ONBOARDING_PROFILE);
      // Through the customer's own partner: a resent e-mail goes through its client (several partners).
      const partner = (await app.store.getCustomer(customerId))?.partner;
      return enqueueFix(fixDepsOf(await reconcileDeps(app, profile, partner)), customerId, requester);
    },
    reconcile: app.reconcile,
    offboardGraceMs: Math.round(config.OFFBOARD_GRACE_DAYS * 24 * 3600 * 1000),
    ...(credentials ? { credentials } : {}),
    sessionKey: sessionKeyFrom(c.SECRETS_KEY),
    ...(config.METRICS_TOKEN ? { metricsToken: config.METRICS_TOKEN } : {}),
    logger: app.logger,
  };
}
