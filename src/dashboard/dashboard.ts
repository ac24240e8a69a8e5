import formbody from '@fastify/formbody';
import csrfProtection from '@fastify/csrf-protection';
import type { ActionStore } from '../workers/action-store.js';
import type { ActionEnqueueDeps } from '../workers/enqueue-action.js';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import secureSession from '@fastify/secure-session';
import type { WriteBackRecord } from '../sources/intake-store.js';
import type { FastifyInstance } from 'fastify';
import type { RedisConnection } from '../redis/connection.js';
import type { CallMetrics } from '../acronis/call-metrics.js';
import type { Logger } from '../logger.js';
import type { RedisKeys } from '../redis/keys.js';
import type { CallbackQueue } from '../workers/callback-queue.js';
import type { OnboardingStore } from '../workers/onboarding-store.js';
import type { OnboardingQueue } from '../workers/queue.js';
import type { SourceIntakeStore } from '../sources/intake-store.js';
import type { SourceSet } from '../sources/source-set.js';
import type { CustomerResult } from '../workers/results.js';
import type { ResendClient } from '../workers/resend-activation.js';
import type { LiveStateSource } from './customer-view.js';
import type { DriftStore } from '../reconcile/drift-store.js';
import type { Requester } from '../lifecycle/action.js';
import type { FixOutcome } from '../reconcile/fix.js';
import type { ReconcileQueue } from '../workers/reconcile-queue.js';
import { pageRoutes } from './pages.js';
import { queueBoard } from './queue-board.js';
import {
  FAILURE_WINDOW_MS,
  MAX_FAILED_SIGN_INS,
  requireCsrfToken,
  requireSignIn,
  SESSION_COOKIE,
  SESSION_HOURS,
  type SignInCredentials,
} from './sign-in.js';

/**
 * The ops console, one fastify plugin: the onboarding overview at `/` (batches, a batch's
 * customers with Retry, a customer's timeline and live state, results downloads), bull-board
 * at /admin/queues and `GET /metrics`, all behind one sign-in (docs/dashboard.md).
 */
export interface DashboardDeps {
  store: OnboardingStore;
  /** Every data centre's step queue (one without a partners file). */
  queues: readonly OnboardingQueue[];
  /** The queue a customer's steps run in: its record's partner's data centre's (none: the default partner's). */
  queueFor(partner: string | undefined): OnboardingQueue;
  /** An install with several partners (docs/partners.md); absent, pages show no partner. */
  partners?: DashboardPartners;
  callbacks: CallbackQueue;
  /** The fail-fast connection (a page answers 500 rather than hang while Redis is away). */
  redis: RedisConnection;
  keys: RedisKeys;
  /** The rows of `acronis-onboard results`, secrets opened. */
  results(batchId: string): Promise<CustomerResult[]>;
  /** A partner's API client (none: the default's) for the live state and the resend of e-mails, built on first use. */
  acronis(partner?: string): LiveStateSource & ResendClient;
  callMetrics: CallMetrics;
  /** A source customer's write-back (docs/sources.md "Write-back"); undefined for other customers. */
  writeBack(customerKey: string): Promise<WriteBackRecord | undefined>;
  /** Lifecycle actions (docs/lifecycle.md): their records, what asking for one needs, the offboard grace. */
  actions: ActionStore;
  lifecycle(): Promise<ActionEnqueueDeps>;
  offboardGraceMs: number;
  /** Reconcile (docs/reconcile.md): what the sweeps found, a customer's Fix, the sweep scheduler. */
  drift: DriftStore;
  /** `reconcile --fix` for one customer (src/reconcile/fix.ts), built on first use. */
  fix(customerId: string, requester: Requester): Promise<FixOutcome>;
  reconcile: ReconcileQueue;
  /** DASHBOARD_USER and DASHBOARD_PASSWORD; absent: open on loopback only. */
  credentials?: SignInCredentials;
  sessionKey: Buffer;
  /** METRICS_TOKEN: a scraper sends it as a bearer token instead of signing in. */
  metricsToken?: string;
  logger: Logger;
  /** The sources of SOURCES_DIR and what their intake keeps (the Sources page, the customer page, /metrics). */
  sources?: { sources: SourceSet; store: SourceIntakeStore };
}

/** What the pages say of the partners when there are several. */
export interface DashboardPartners {
  names: readonly string[];
  /** The partner of a record that names none. */
  default: string;
  /** A partner's data centre (its URL's host[:port]). */
  dataCenterOf(partner: string): string;
  /** Every data centre and the name of its step queue (/metrics labels the queue with it). */
  dataCenters: readonly { id: string; queueName: string }[];
}

/** Pages may load only this site's own styles and scripts (no inline script, no inline style). */
const PAGE_CSP = {
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  objectSrc: ["'none'"],
  baseUri: ["'self'"],
  // The server speaks plain HTTP (TLS, if any, ends at a proxy); upgrading would break it.
  upgradeInsecureRequests: null,
};

export async function dashboard(app: FastifyInstance, deps: DashboardDeps): Promise<void> {
  await app.register(helmet, { contentSecurityPolicy: { useDefaults: false, directives: PAGE_CSP } });
  await app.register(formbody);
  await app.register(secureSession, {
    key: deps.sessionKey,
    cookieName: SESSION_COOKIE,
    expiry: SESSION_HOURS * 3600,
    cookie: { path: '/', httpOnly: true, sameSite: 'strict', secure: 'auto', maxAge: SESSION_HOURS * 3600 },
  });
  await app.register(csrfProtection, { sessionPlugin: '@fastify/secure-session' });
  await app.register(rateLimit, {
    global: false,
    max: MAX_FAILED_SIGN_INS,
    timeWindow: FAILURE_WINDOW_MS,
    redis: deps.redis,
    nameSpace: deps.keys.signInFailuresPrefix,
  });
  app.addHook('onRequest', requireSignIn(deps.credentials));
  app.addHook('preValidation', requireCsrfToken(app));
  await app.register(pageRoutes, deps);
  await app.register(async (board) => {
    // bull-board's page sets inline styles; its scripts are still its own files only.
    board.addHook('onRoute', (route) => {
      const styleSrc = ["'self'", "'unsafe-inline'"];
      // Set on the config itself: helmet's own onRoute hook, in the parent scope, has already run.
      const helmetConfig = { contentSecurityPolicy: { useDefaults: false, directives: { ...PAGE_CSP, styleSrc } } };
      route.config = Object.assign(route.config ?? {}, { helmet: helmetConfig });
    });
    await queueBoard(board, { queues: [...deps.queues, deps.callbacks, deps.reconcile] });
  });
}
