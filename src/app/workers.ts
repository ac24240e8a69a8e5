import type { Worker } from 'bullmq';
import type { ChainData, StepName } from '../onboarding/chain.js';
import type { Profile } from '../onboarding/profile.js';
import { buildStepCatalogue } from '../onboarding/steps/index.js';
import { WorkerHeartbeat } from '../workers/heartbeat.js';
import { closeWithin } from '../workers/bounded-close.js';
import { createStepWorker } from '../workers/step-worker.js';
import { scheduleSweeps } from '../workers/reconcile-queue.js';
import { createSweepWorker, type SweepWorker } from '../workers/sweep-worker.js';
import { durationWords } from '../text/duration.js';
import type { App } from './app.js';
import { prepareOnboarding, type SetupOptions } from './onboarding-setup.js';
import { PartnerRefusals } from '../partners/partner-refusal.js';
import { prepareEveryPartner } from './partners-at-start.js';

export interface RunningWorkers {
  /** The default partner's data centre's step worker. */
  worker: Worker<ChainData, unknown, StepName>;
  /** Every data centre's step worker (one with a single partner: `worker`). */
  workers: Worker<ChainData, unknown, StepName>[];
  /** Takes the scheduled sweeps (docs/reconcile.md); absent with RECONCILE_EVERY=0. */
  sweepWorker: SweepWorker | undefined;
  profile: Profile;
  /** The default partner's tenant; with several partners, undefined when it did not answer at start. */
  partnerTenantId: string | undefined;
  /** Stops taking jobs, lets in-flight steps finish within `timeoutMs`, then stops them. */
  close(timeoutMs?: number): Promise<{ forced: boolean }>;
}

/** What `work` runs: the step workers, once the profile has been checked against the partner's offer. */
export async function startWorkers(app: App, opts: SetupOptions = {}): Promise<RunningWorkers> {
  const { config, logger } = app;
  await app.checkRedisSettings();
  // The client is built first, so missing ACRONIS_* variables stop the start before anything else.
  const acronis = app.acronis;
  // Several partners: none is waited for, a refused one is said once (src/app/partners-at-start.ts).
  const refusals = app.partners.several ? new PartnerRefusals(app.partners, logger) : undefined;
  const { profile, partnerTenantId } = refusals
    ? await prepareEveryPartner(app, opts, refusals)
    : await prepareOnboarding(app, opts);
  const inFlight = { count: 0 };
  const workers = createStepWorkers(app, acronis, inFlight, refusals);
  for (const worker of workers) void worker.run();
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  const worker = workers[0] as RunningWorkers['worker'];
  const sweepWorker = await startSweepScheduler(app, profile);
  const heartbeat = new WorkerHeartbeat({ redis: app.redis, key: app.keys.workersSeen });
  await heartbeat.start();
  const started = {
    concurrency: config.WORKER_CONCURRENCY,
    rateLimit: config.ACRONIS_RATE_LIMIT,
    profile: profile.name,
  };
  logger.info({ ...started, partnerTenantId }, 'workers started');
  return {
    worker,
    workers,
    sweepWorker,
    profile,
    partnerTenantId,
    close: async (timeoutMs = config.SHUTDOWN_TIMEOUT_MS) => {
      // With Redis away the heartbeat cannot be removed; it ages out of the "seen" window instead.
      if (!app.availability.isDown) await heartbeat.stop();
      else heartbeat.forget();
      // With Redis away and no step running, BullMQ's close would only wait for its connection.
      const [steps] = await Promise.all([
        closeWorkers(workers, timeoutMs, app, () => app.availability.isDown && inFlight.count === 0),
        // A sweep cut short runs again as a stalled job; the lease it held expires on its own.
        sweepWorker ? closeWithin(sweepWorker, timeoutMs, () => app.availability.isDown) : undefined,
      ]);
      return steps;
    },
  };
}

/**
 * One step worker per data centre (docs/partners.md): its own queue, limiter and budget, so a
 * data centre that answers 429 pauses only its own steps. One partner: one worker, as ever.
 */
function createStepWorkers(
  app: App,
  acronis: App['acronis'],
  inFlight: { count: number },
  partnerRefusals: PartnerRefusals | undefined,
): RunningWorkers['workers'] {
  const { config, logger } = app;
  const catalogue = buildStepCatalogue();
  const several = app.partnerNames.length > 1;
  const dataCenters = several ? app.partners.dataCenters : undefined;
  return (dataCenters ?? [undefined]).map((dc) => {
    const parts = dc ? app.dataCenterParts(dc) : { queue: app.queue, budget: app.budget };
    app.followDecisions(parts.budget);
    return createStepWorker({
      connection: app.workerConnection(),
      prefix: config.QUEUE_PREFIX,
      queue: parts.queue,
      store: app.store,
      actions: app.actions,
      callbacks: app.callbacks,
      writeBacks: app.writeBacks,
      catalogue,
      acronis,
      budget: parts.budget,
      offers: app.offers,
      box: app.box,
      logger: dc ? logger.child({ dataCenter: dc.id }) : logger,
      dataCenterUrl: app.dataCenterUrl,
      ...(several ? { partnerParts: (partner: string | undefined) => app.partnerParts(partner) } : {}),
      ...(partnerRefusals ? { partnerRefusals } : {}),
      concurrency: config.WORKER_CONCURRENCY,
      requestsPerSecond: dc?.rateLimit ?? config.ACRONIS_RATE_LIMIT,
      lockDurationMs: config.JOB_LOCK_MS,
      onRateLimited: (pauseMs) => app.callMetrics.paused(pauseMs),
      availability: app.availability,
      inFlight,
    });
  });
}

/**
 * The one sweep scheduler of the install, registered (or, with RECONCILE_EVERY=0, removed) by
 * every `work`, and this process's worker for its jobs (docs/reconcile.md "Scheduled sweeps").
 */
async function startSweepScheduler(app: App, profile: Profile): Promise<SweepWorker | undefined> {
  const everyMs = app.config.RECONCILE_EVERY;
  await scheduleSweeps(app.reconcile, everyMs);
  if (everyMs === 0) {
    app.logger.info('RECONCILE_EVERY=0: no scheduled sweep');
    return undefined;
  }
  const sweepWorker = createSweepWorker({
    connection: app.workerConnection(),
    prefix: app.config.QUEUE_PREFIX,
    sweep: async (opts) => {
      const full = opts.full === true || (await app.fullSweepDue());
      return app.sweepExclusively(profile, full ? { ...opts, full } : opts, 'scheduled');
    },
    logger: app.logger,
    availability: app.availability,
  });
  void sweepWorker.run();
  await sweepWorker.waitUntilReady();
  app.logger.info({ every: durationWords(everyMs) }, 'scheduled sweeps on');
  return sweepWorker;
}

/** Bounded (closeWithin), every data centre's at once; the warning says why steps may run again. */
async function closeWorkers(
  workers: RunningWorkers['workers'],
  timeoutMs: number,
  app: App,
  idle: () => boolean,
): Promise<{ forced: boolean }> {
  const outcomes = await Promise.all(workers.map((worker) => closeWithin(worker, timeoutMs, idle)));
  const outcome = { forced: outcomes.some((o) => o.forced) };
  if (outcome.forced)
    app.logger.warn(
      { timeoutMs },
      'in-flight steps did not finish in time; stopping them (they will run again elsewhere)',
    );
  return outcome;
}
