import { Worker } from 'bullmq';
import { readNamedSecrets } from '../config.js';
import { loadProfile } from '../onboarding/profile.js';
import type { Producer } from '../producers/producer.js';
import { QUEUE_NAMES } from '../redis/keys.js';
import { runIntake } from '../sources/intake-job.js';
import { SourceIntakeStore } from '../sources/intake-store.js';
import { checkSourcePartners, loadSources, type SourceConfig } from '../sources/source-file.js';
import { partnerCheckOf } from '../producers/partner-check.js';
import { openSources, type SourceSet } from '../sources/source-set.js';
import { runWriteBack } from '../sources/write-back-job.js';
import type { IntakeJob, WriteBackJob } from '../workers/source-queues.js';
import type { App } from './app.js';
import { checkProfileOffer } from './onboarding-setup.js';

/**
 * The sources of `serve` (docs/sources.md): every file of SOURCES_DIR checked (a bad one stops
 * the start, exit 2, naming the file and the field), their secrets and profiles resolved, and the
 * workers of their two queues.
 */
export interface RunningSources {
  sources: SourceSet;
  store: SourceIntakeStore;
  /** Absent when no source is configured. */
  workers: Worker[];
}

export interface SourceWorkerOptions {
  /** How long a write-back waits for a customer still running before it looks again (tests shorten it). */
  writeBackRecheckMs?: number;
  /**
   * Where the variables a source file names are looked up; the process's environment when absent
   * (the demo hands its simulators' made-up credentials here, never into the environment).
   */
  secretEnv?: Readonly<Record<string, string>>;
}

/** Reads SOURCES_DIR before anything else opens, so a bad file is the first and only complaint. */
export async function readSourceFiles(app: App): Promise<SourceConfig[]> {
  const configs = await loadSources(app.config.SOURCES_DIR);
  for (const config of configs) checkSourcePartners(config, app.partnerNames);
  return configs;
}

export async function openAppSources(
  app: App,
  producer: Producer,
  configs: readonly SourceConfig[],
  opts: SourceWorkerOptions = {},
): Promise<RunningSources> {
  const store = new SourceIntakeStore(app.redis, app.keys);
  const sources = await openSources(configs, {
    redis: app.redis,
    keys: app.keys,
    logger: app.logger,
    secrets: (names) => readNamedSecrets(names, opts.secretEnv),
    profileFor: async (config) => {
      if (config.profile === undefined) return { profile: producer.profile, profileSource: producer.profileSource };
      const profile = await loadProfile(config.profile);
      // Checked against the offer of the partner the file names (its customers' unless mapped elsewhere).
      const lane = app.lane(config.partner);
      await checkProfileOffer(profile, config.profile, await lane.partnerTenantId(), lane.offers);
      return { profile, profileSource: config.profile };
    },
  });
  if (sources.size === 0) return { sources, store, workers: [] };
  const logger = app.logger;
  const lifecycle = {
    deps: { queue: app.queue, store: app.store, actions: app.actions, partnerTenantId: producer.partnerTenantId },
    offboardGraceMs: Math.round(app.config.OFFBOARD_GRACE_DAYS * 24 * 3600 * 1000),
  };
  const intake = new Worker<IntakeJob>(
    QUEUE_NAMES.intake,
    (job, _token, signal) =>
      runIntake(
        { sources, store, producer, writeBacks: app.writeBacks, logger, lifecycle, partners: partnerCheckOf(producer) },
        job,
        signal,
      ),
    // Four at a time: the intake shares serve's event loop with the answers senders wait for; at 16,
    // a burst of enqueues stalled it and the p99 answer at 200 events/s went past 100 ms (BENCHMARKS.md).
    { connection: app.workerConnection(), prefix: app.config.QUEUE_PREFIX, concurrency: 4 },
  );
  const writeBacks = new Worker<WriteBackJob>(
    QUEUE_NAMES.writeBacks,
    (job, token, signal) =>
      runWriteBack(
        {
          sources,
          store,
          onboarding: app.store,
          logger,
          ...(opts.writeBackRecheckMs ? { recheckMs: opts.writeBackRecheckMs } : {}),
        },
        job,
        token,
        signal,
      ),
    { connection: app.workerConnection(), prefix: app.config.QUEUE_PREFIX, concurrency: 8 },
  );
  for (const worker of [intake, writeBacks])
    worker.on('error', (err) => app.availability.observe('source worker error', err));
  logger.info({ sources: [...sources.keys()] }, 'sources open');
  return { sources, store, workers: [intake, writeBacks] };
}
