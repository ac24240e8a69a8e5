import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../../src/app/app.js';
import { openProducer } from '../../src/app/producer.js';
import { startWorkers, type RunningWorkers } from '../../src/app/workers.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import type { Producer } from '../../src/producers/producer.js';
import { generateSecretsKey } from '../../src/secrets/secret-box.js';
import type { SimulatorOptions } from '../../src/simulator/index.js';
import type { BatchRecord, OnboardingStore } from '../../src/workers/onboarding-store.js';
import { connectTestRedis, removeKeys, uniquePrefix } from './redis.js';
import { startTestSimulator, type RunningSimulator } from './simulator.js';
import { until } from './wait.js';
import { capturedLogger } from './pipeline.js';

/**
 * An install serving two partners in two simulated data centres (docs/partners.md): a partners
 * file naming `dc1` (the default) and `dc2`, their clients in a private environment, real Redis
 * under a unique prefix, workers in this process.
 */
export interface TwoPartnerInstall {
  sims: [RunningSimulator, RunningSimulator];
  config: Config;
  secretEnv: Record<string, string>;
  app: App;
  producer: Producer;
  logs: string[];
  logger: Logger;
  /** Workers in this process; `secretEnv` replaces the install's (a partner's wrong secret, say). */
  startWorkers(opts?: { secretEnv?: Record<string, string> }): Promise<RunningWorkers & { app: App }>;
  waitForBatch(batchId: string, timeoutMs?: number): Promise<BatchRecord>;
  close(): Promise<void>;
}

/**
 * The store as a producer sees it when another producer is faster: its look at the records finds
 * none, so only enqueue's own check stands between the request and a customer under two partners.
 */
export function blindStore(store: OnboardingStore): OnboardingStore {
  return new Proxy(store, {
    get: (target, prop) =>
      prop === 'getCustomers'
        ? async (keys: readonly string[]) => keys.map(() => undefined)
        : (Reflect.get(target, prop, target) as unknown),
  });
}

export async function startTwoPartnerInstall(opts: {
  label: string;
  sims?: [Partial<SimulatorOptions>, Partial<SimulatorOptions>];
  rateLimits?: [number, number];
  env?: Record<string, string>;
}): Promise<TwoPartnerInstall> {
  const sims: [RunningSimulator, RunningSimulator] = [
    await startTestSimulator({ validateResponses: true, ...opts.sims?.[0] }),
    await startTestSimulator({ validateResponses: true, ...opts.sims?.[1] }),
  ];
  const dir = await mkdtemp(join(tmpdir(), 'partners-'));
  const file = join(dir, 'partners.json');
  const secretEnv: Record<string, string> = {};
  const partners = sims.map((sim, i) => {
    const name = `dc${i + 1}`;
    secretEnv[`DC${i + 1}_CLIENT_ID`] = sim.seed.clientId;
    secretEnv[`DC${i + 1}_CLIENT_SECRET`] = sim.seed.clientSecret;
    return {
      name,
      base_url: sim.url,
      client_id_env: `DC${i + 1}_CLIENT_ID`,
      client_secret_env: `DC${i + 1}_CLIENT_SECRET`,
      rate_limit: opts.rateLimits?.[i] ?? 100,
    };
  });
  await writeFile(file, JSON.stringify({ default: 'dc1', partners }));
  const config = loadConfig({
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: uniquePrefix(opts.label),
    PARTNERS_FILE: file,
    SECRETS_KEY: generateSecretsKey(),
    WORKER_CONCURRENCY: '16',
    STEP_BACKOFF_MS: '50',
    JOB_LOCK_MS: '5000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'debug',
    ...opts.env,
  });
  const { logs, logger } = capturedLogger();
  const app = await App.open(config, { logger, secretEnv });
  const producer = await openProducer(app, { profile: STANDARD_PROFILE });
  const running: (RunningWorkers & { app: App })[] = [];
  return {
    sims,
    config,
    secretEnv,
    app,
    producer,
    logs,
    logger,
    async startWorkers(workerOpts = {}) {
      const env = workerOpts.secretEnv ?? secretEnv;
      const workerApp = await App.open(config, { logger, role: 'worker', secretEnv: env });
      const started = await startWorkers(workerApp, { profile: STANDARD_PROFILE });
      const workers = { ...started, app: workerApp };
      running.push(workers);
      return workers;
    },
    async waitForBatch(batchId, timeoutMs = 90_000) {
      let batch: BatchRecord | undefined;
      await until(
        async () => (batch = await app.store.getBatch(batchId))?.ended === true,
        `batch ${batchId}`,
        timeoutMs,
      );
      return batch as BatchRecord;
    },
    async close() {
      for (const w of running) {
        await w.close(2000);
        await w.app.close();
      }
      for (const queue of app.queues) await queue.obliterate({ force: true }).catch(() => undefined);
      await app.close();
      const redis = connectTestRedis(config.REDIS_URL);
      await removeKeys(redis, config.QUEUE_PREFIX);
      redis.disconnect();
      await Promise.all(sims.map((s) => s.close()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
