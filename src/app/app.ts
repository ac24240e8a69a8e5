import type { RedisConnection } from '../redis/connection.js';
import { CallMetrics } from '../acronis/call-metrics.js';
import type { AcronisClient } from '../acronis/client.js';
import { RequestBudget } from '../acronis/request-budget.js';
import { requireConfig, type Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { ActionEnqueueDeps } from '../workers/enqueue-action.js';
import type { PartnerParts } from '../workers/step-run.js';
import { loggerReport, RedisAvailability } from '../redis/availability.js';
import { connectOrExplain, createRedis, redactUrl } from '../redis/connection.js';
import { withRedisDeadline } from '../redis/deadline.js';
import { checkRedisSettings } from '../redis/settings.js';
import { RedisKeys } from '../redis/keys.js';
import { checkSecretsKey } from '../secrets/key-check.js';
import { createSecretBox, type SecretBox } from '../secrets/secret-box.js';
import { createCallbackQueue, type CallbackQueue } from '../workers/callback-queue.js';
import type { OfferingCache } from '../workers/offering-cache.js';
import { ActionStore } from '../workers/action-store.js';
import { OnboardingStore } from '../workers/onboarding-store.js';
import { createOnboardingQueue, type OnboardingQueue, type RetryPolicy } from '../workers/queue.js';
import { envPartnerSet } from '../partners/partners-file.js';
import { ENV_PARTNER_NAME, type DataCenter, type PartnerSet } from '../partners/partner-set.js';
import { loadPartners, PartnerLane, type DataCenterParts } from './partner-lane.js';
import { Lease } from '../redis/lease.js';
import { DriftStore } from '../reconcile/drift-store.js';
import type { Profile } from '../onboarding/profile.js';
import { sweepLanes } from '../reconcile/deps.js';
import { runSweeps, type SweepOptions, type SweepReport } from '../reconcile/sweep.js';
import { sweepExclusively, type ExclusiveSweepOutcome, type SweepPurpose } from '../workers/exclusive-sweep.js';
import { createReconcileQueue, type ReconcileQueue } from '../workers/reconcile-queue.js';
import {
  createIntakeQueue,
  createWriteBackQueue,
  type IntakeQueue,
  type WriteBackQueue,
} from '../workers/source-queues.js';

/**
 * The program, put together once from the Config: Redis, the keys, the store, the queues, and
 * on first use the parts that need more configuration (the sealing key, the Acronis client with
 * its token cache and request budget, the offering cache). The CLI and the server take what
 * they need; nothing below this layer reads the Config.
 *
 * `client` apps (CLI commands, `serve`) fail fast when Redis is away, so a command says so and
 * the webhook answers 503; `worker` apps wait it out (docs/bullmq.md §1.10).
 */
export type AppRole = 'client' | 'worker';

export interface OpenAppOptions {
  logger: Logger;
  role?: AppRole;
  /** The process's outage tracker, shared by its apps so an outage is told once (default: one of its own). */
  availability?: RedisAvailability;
  /** Long-running commands wait for Redis to appear instead of failing; aborting stops the wait at once. */
  waitForRedis?: AbortSignal;
  /** Where the partners file's variables are read (tests, the demo); default the process's environment. */
  secretEnv?: Readonly<Record<string, string | undefined>>;
}

/** How long the sweep lease outlives a process that stopped renewing it (it renews every third of it). */
const SWEEP_LEASE_MS = 60_000;
/** A scheduled sweep reads in full once the last full sweep is this old. */
export const FULL_SWEEP_EVERY_MS = 7 * 24 * 3600_000;

export class App {
  readonly keys: RedisKeys;
  readonly store: OnboardingStore;
  /** Lifecycle actions (docs/lifecycle.md). */
  readonly actions: ActionStore;
  /** What reconcile sweeps found (docs/reconcile.md): drift, funnels, the last sweep. */
  readonly drift: DriftStore;
  readonly queue: OnboardingQueue;
  readonly callbacks: CallbackQueue;
  /** The sources' queues (docs/sources.md): events to work, and results to write back. */
  readonly intake: IntakeQueue;
  readonly writeBacks: WriteBackQueue;
  /** The scheduled sweeps' queue (docs/reconcile.md "Scheduled sweeps"). */
  readonly reconcile: ReconcileQueue;
  private readonly connections: RedisConnection[] = [];
  private memo: {
    box?: SecretBox;
    envPartners?: PartnerSet;
    callMetrics?: CallMetrics;
    decisions?: RedisConnection;
  } = {};
  private readonly lanes = new Map<string, PartnerLane>();
  private readonly dataCentres = new Map<string, DataCenterParts>();
  private readonly retryPolicy: RetryPolicy;

  private constructor(
    readonly config: Config,
    readonly logger: Logger,
    readonly role: AppRole,
    /** The app's own connection: fail-fast or patient, by role. */
    readonly redis: RedisConnection,
    readonly availability: RedisAvailability,
    /** PARTNERS_FILE's partners, read at open; absent: the ACRONIS_* variables' one. */
    private readonly partnersFromFile: PartnerSet | undefined,
  ) {
    this.keys = new RedisKeys(config.QUEUE_PREFIX);
    this.store = new OnboardingStore(redis, this.keys);
    this.actions = new ActionStore(redis, this.keys);
    this.drift = new DriftStore(redis, this.keys);
    this.retryPolicy = { attempts: config.STEP_ATTEMPTS, backoffMs: config.STEP_BACKOFF_MS };
    this.queue = createOnboardingQueue(redis, config.QUEUE_PREFIX, this.retryPolicy);
    this.callbacks = createCallbackQueue(redis, config.QUEUE_PREFIX);
    this.intake = createIntakeQueue(redis, config.QUEUE_PREFIX);
    this.writeBacks = createWriteBackQueue(redis, config.QUEUE_PREFIX);
    this.reconcile = createReconcileQueue(redis, config.QUEUE_PREFIX);
    // Errors reach the callers of each command; the emitter's copy would only be noise.
    for (const queue of [this.queue, this.callbacks, this.intake, this.writeBacks, this.reconcile])
      queue.on('error', () => undefined);
  }

  static async open(config: Config, opts: OpenAppOptions): Promise<App> {
    const role = opts.role ?? 'client';
    // A bad partners file stops the command before Redis is touched, naming the field (exit 2).
    const partners = config.PARTNERS_FILE ? await loadPartners(config, opts.secretEnv) : undefined;
    const availability = opts.availability ?? new RedisAvailability(config.REDIS_URL, loggerReport(opts.logger));
    const redis = createRedis(config.REDIS_URL, role === 'worker' ? 'worker' : 'fail-fast', { lazyConnect: true });
    availability.watch(redis);
    if (opts.waitForRedis)
      await availability.waitUntilReady(redis, opts.waitForRedis).catch((err: unknown) => {
        redis.disconnect();
        throw opts.waitForRedis?.reason ?? err;
      });
    else await connectOrExplain(redis, config.REDIS_URL);
    const app = new App(config, opts.logger, role, redis, availability, partners);
    // Before any work: a process with another SECRETS_KEY than its install stops here (exit 2).
    if (config.SECRETS_KEY)
      await checkSecretsKey(redis, app.keys.secretsKeyCheck, app.box).catch(async (err: unknown) => {
        await app.close();
        throw err;
      });
    return app;
  }

  /** Seals passwords and tokens kept in Redis (SECRETS_KEY; opens with SECRETS_KEY_PREVIOUS too). */
  get box(): SecretBox {
    const c = requireConfig(this.config, ['SECRETS_KEY'], 'to keep passwords and tokens sealed in Redis');
    return (this.memo.box ??= createSecretBox(c.SECRETS_KEY, this.config.SECRETS_KEY_PREVIOUS));
  }

  /**
   * The partners the install serves (docs/partners.md): PARTNERS_FILE's, or the one of the
   * ACRONIS_* variables (missing ones stop the command that needs them, naming them).
   */
  get partners(): PartnerSet {
    if (this.partnersFromFile) return this.partnersFromFile;
    const needed = ['ACRONIS_BASE_URL', 'ACRONIS_CLIENT_ID', 'ACRONIS_CLIENT_SECRET'] as const;
    return (this.memo.envPartners ??= envPartnerSet(requireConfig(this.config, needed, 'to call the Acronis API')));
  }

  /** The partner names a customer may give, without needing any credentials (the CLI's checks, filters). */
  get partnerNames(): string[] {
    return this.partnersFromFile?.names ?? [ENV_PARTNER_NAME];
  }

  /** The partner of a customer whose record names none, without needing any credentials. */
  get defaultPartnerName(): string {
    return this.partnersFromFile?.default.name ?? ENV_PARTNER_NAME;
  }

  /** The default partner's own profile, when the partners file gives it one. */
  get defaultPartnerProfilePath(): string | undefined {
    return this.partnersFromFile?.default.profilePath;
  }

  /** Everything one partner's customers are worked with: its client, its data centre's budget and queue. */
  lane(partnerName?: string): PartnerLane {
    const partner = this.partners.get(partnerName);
    const made = this.lanes.get(partner.name);
    if (made) return made;
    const lane = new PartnerLane(partner, this.dataCenterParts(this.partners.dataCenterOf(partner.name)), this);
    this.lanes.set(partner.name, lane);
    return lane;
  }

  /** The queue a customer of that partner is worked in (its record's `partner`; none: the default's). */
  queueFor(partner: string | undefined): OnboardingQueue {
    if (!this.partnersFromFile || partner === undefined) return this.queue;
    return this.dataCenterParts(this.partners.dataCenterOf(partner)).queue;
  }

  /** Every data centre's step queue: the default partner's first (it is `app.queue`). */
  get queues(): OnboardingQueue[] {
    if (!this.partnersFromFile) return [this.queue];
    return this.partners.dataCenters.map((dc) => this.dataCenterParts(dc).queue);
  }

  /** A data centre's shared parts, made once: its queue and its request budget. */
  dataCenterParts(dc: DataCenter): DataCenterParts {
    const made = this.dataCentres.get(dc.id);
    if (made) return made;
    const queue = dc.primary
      ? this.queue
      : createOnboardingQueue(this.redis, this.config.QUEUE_PREFIX, this.retryPolicy, dc.queueName);
    if (!dc.primary) queue.on('error', () => undefined);
    const budget = new RequestBudget({
      redis: this.redis,
      keys: this.keys.requestBudgetFor(dc.id, dc.primary),
      perSecond: dc.rateLimit,
      ...(dc.rateCeiling !== undefined ? { ceiling: dc.rateCeiling } : {}),
      logger: this.partners.several ? this.logger.child({ dataCenter: dc.id }) : this.logger,
    });
    const parts = { dataCenter: dc, queue, budget };
    this.dataCentres.set(dc.id, parts);
    return parts;
  }

  /** The default partner's data centre's budget: ACRONIS_RATE_LIMIT (up to ACRONIS_RATE_CEILING) without a partners file. */
  get budget(): RequestBudget {
    return this.lane().budget;
  }

  /** The default partner's API client. */
  get acronis(): AcronisClient {
    // Without a partners file, every variable missing is named at once, as before partners.
    if (!this.partnersFromFile)
      requireConfig(
        this.config,
        ['ACRONIS_BASE_URL', 'ACRONIS_CLIENT_ID', 'ACRONIS_CLIENT_SECRET', 'SECRETS_KEY'],
        'to call the Acronis API',
      );
    return this.lane().acronis;
  }

  /** This process's share of the install's API metrics, written to Redis for `/metrics`. */
  get callMetrics(): CallMetrics {
    return (this.memo.callMetrics ??= new CallMetrics({
      redis: this.redis,
      keys: this.keys.metrics,
      logger: this.logger,
    }));
  }

  /** The default partner's offering cache. */
  get offers(): OfferingCache {
    return this.lane().offers;
  }

  /** The default partner's data-centre URL, which agents register with, for install commands. */
  get dataCenterUrl(): string {
    if (!this.partnersFromFile)
      return requireConfig(this.config, ['ACRONIS_BASE_URL'], 'to write the agent install commands').ACRONIS_BASE_URL;
    return this.lane().dataCenterUrl;
  }

  /** The default partner's tenant, which receives its customers: configured, or the API client's own tenant. */
  partnerTenantId(): Promise<string> {
    return this.lane().partnerTenantId();
  }

  /**
   * What queueing a lifecycle action needs (src/workers/enqueue-action.ts): the CLI, the dashboard and the demo ask alike.
   * `partner`: that partner's lane is the home one (`--partner`, a reconcile pass), so the default need not answer.
   */
  async actionEnqueueDeps(partner?: string): Promise<ActionEnqueueDeps> {
    const home = partner === undefined ? undefined : this.lane(partner);
    return {
      queue: home?.queue ?? this.queue,
      store: this.store,
      actions: this.actions,
      partnerTenantId: await (home ?? this).partnerTenantId(),
      offers: (home ?? this).offers,
      acronis: (home ?? this).acronis,
      ...(this.partnerNames.length > 1
        ? {
            partnerDeps: async (partner: string) => {
              const lane = this.lane(partner);
              return {
                queue: lane.queue,
                partnerTenantId: await lane.partnerTenantId(),
                offers: lane.offers,
                acronis: lane.acronis,
              };
            },
          }
        : {}),
    };
  }

  /** A partner's client, offer and data-centre URL, for the steps of its customers (src/workers/step-run.ts). */
  partnerParts(partner: string | undefined): PartnerParts {
    const lane = this.lane(partner);
    return { acronis: lane.acronis, offers: lane.offers, dataCenterUrl: lane.dataCenterUrl };
  }

  /**
   * One sweep (src/reconcile/sweep.ts), only while no other runs in the install: the scheduler's
   * and `reconcile`'s one way in (src/workers/exclusive-sweep.ts).
   */
  async sweepExclusively(
    profile: Profile,
    opts: SweepOptions,
    purpose: SweepPurpose,
  ): Promise<ExclusiveSweepOutcome<SweepReport>> {
    const logger = this.logger.child({ component: 'reconcile' });
    const lease = new Lease({
      redis: this.redis,
      key: this.keys.sweepLease,
      ttlMs: SWEEP_LEASE_MS,
      onLost: (holder) =>
        logger.warn(
          { holder: holder.owner },
          'the sweep lease was lost (Redis away, or this process stood still): another sweep may start beside this one',
        ),
    });
    const lanes = await sweepLanes(this, profile, opts.partner);
    const exclusive = { lease, redis: this.redis, countsKey: this.keys.metrics.sweeps, logger };
    return sweepExclusively(exclusive, purpose, async () => {
      const report = await runSweeps(lanes, opts);
      for (const { partner, reason } of report.partnersNotRead ?? [])
        logger.error({ partner, reason }, `reconcile: partner "${partner}" not read: ${reason}`);
      if (report.mode === 'full' && !opts.customerIds && !opts.partner)
        await this.redis.set(this.keys.lastFullSweep, String(report.finishedAt));
      return report;
    });
  }

  /**
   * Whether a scheduled sweep should be a full one: once the last full sweep is a week old, so the
   * usages of customers already seen with an agent are asked again (agents removed since:
   * docs/reconcile.md "Known limits").
   * None recorded: the sweep decides (its first is full anyway).
   */
  async fullSweepDue(now = Date.now()): Promise<boolean> {
    const last = Number(await this.redis.get(this.keys.lastFullSweep));
    return last > 0 && now - last >= FULL_SWEEP_EVERY_MS;
  }

  /**
   * `serve` and `work` start only on a Redis that keeps what they rely on: an evicting Redis
   * stops them (ConfigError), one without persistence is warned about.
   */
  async checkRedisSettings(): Promise<void> {
    for (const warning of await checkRedisSettings(this.redis, redactUrl(this.config.REDIS_URL)))
      this.logger.warn(`warning: ${warning}`);
  }

  /** A connection of its own for a BullMQ worker's blocking commands; closed with the app. */
  workerConnection(): RedisConnection {
    const connection = this.availability.watch(createRedis(this.config.REDIS_URL, 'worker'));
    this.connections.push(connection);
    return connection;
  }

  /**
   * The budget hears every process's decisions as they are written (RequestBudget.follow), on one
   * subscribing connection this process's budgets share; `work` follows each data centre's.
   */
  followDecisions(budget: RequestBudget): void {
    const subscriber = (this.memo.decisions ??= this.workerConnection());
    budget.follow(subscriber).catch((err: unknown) => {
      // Without it the budget still learns of a pause at its next reservation, as before.
      this.logger.warn({ err }, 'could not subscribe to the request budget decisions');
    });
  }

  async close(): Promise<void> {
    // Redis away: nothing more can be written, and waiting for it would only hold the exit.
    const away = this.availability.isDown;
    this.availability.mute();
    if (!away) {
      // The last second of counts; bounded, so a Redis that goes away now does not hold the exit.
      const metrics = this.memo.callMetrics?.close() ?? Promise.resolve();
      await withRedisDeadline(this.redis, 'metrics', 2000, metrics).catch(() => undefined);
    }
    // BullMQ's close waits for its connection, which with Redis away may be never: bounded too.
    const queues = Promise.all([
      ...[...this.dataCentres.values()].filter((dc) => !dc.dataCenter.primary).map((dc) => dc.queue.close()),
      this.queue.close(),
      this.callbacks.close(),
      this.intake.close(),
      this.writeBacks.close(),
      this.reconcile.close(),
    ]);
    await withRedisDeadline(this.redis, 'close queues', away ? 100 : 1000, queues).catch(() => undefined);
    for (const connection of this.connections) connection.disconnect();
    this.redis.disconnect();
  }
}
