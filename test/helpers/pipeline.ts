import { Writable } from 'node:stream';
import type { RedisConnection } from '../../src/redis/connection.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { customerKeyOf, type CustomerRequest } from '../../src/onboarding/customer-request.js';
import { STANDARD_PROFILE, type Profile } from '../../src/onboarding/profile.js';
import { generateSecretsKey } from '../../src/secrets/secret-box.js';
import { enqueueCustomers, type EnqueueResult } from '../../src/workers/enqueue.js';
import type { BatchRecord } from '../../src/workers/onboarding-store.js';
import { App } from '../../src/app/app.js';
import { startWorkers, type RunningWorkers } from '../../src/app/workers.js';
import { connectTestRedis, removeKeys, uniquePrefix } from './redis.js';
import { until } from './wait.js';
import { startTestSimulator, type RunningSimulator } from './simulator.js';
import type { SimulatorOptions, SimulatorState, SimulatorTenant, SimulatorUser } from '../../src/simulator/index.js';
import { expect } from 'vitest';

/**
 * A whole pipeline for one test file: a simulator over loopback HTTP, real Redis under a
 * unique QUEUE_PREFIX, real BullMQ workers in this process, and the producers' enqueue
 * function. Logs are captured as text so tests can scan them.
 */
export interface TestPipeline {
  sim: RunningSimulator;
  config: Config;
  /** The producers' side of the program (fail-fast Redis): store, queue, box. */
  pipeline: App;
  redis: RedisConnection;
  prefix: string;
  logs: string[];
  logger: Logger;
  workers: TestWorkers[];
  /** `redisUrl`: the workers' own way to Redis (a link the test can freeze), the same Redis as the rest. */
  startWorkers(opts?: { profile?: Profile; concurrency?: number; redisUrl?: string }): Promise<TestWorkers>;
  enqueue(customers: CustomerRequest[], opts?: { profile?: Profile; label?: string }): Promise<EnqueueResult>;
  waitForBatch(batchId: string, timeoutMs?: number): Promise<BatchRecord>;
  close(): Promise<void>;
}

/** Workers of the harness, each with the app (its own connections) they run in. */
export type TestWorkers = RunningWorkers & { app: App };

export interface TestPipelineOptions {
  label: string;
  env?: Record<string, string>;
  sim?: Partial<SimulatorOptions>;
}

export async function startTestPipeline(opts: TestPipelineOptions): Promise<TestPipeline> {
  const sim = await startTestSimulator({ validateResponses: true, ...opts.sim });
  const config = loadConfig({
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: uniquePrefix(opts.label),
    ACRONIS_BASE_URL: sim.url,
    ACRONIS_CLIENT_ID: sim.seed.clientId,
    ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
    SECRETS_KEY: generateSecretsKey(),
    ACRONIS_RATE_LIMIT: '100',
    WORKER_CONCURRENCY: '16',
    STEP_ATTEMPTS: '8',
    STEP_BACKOFF_MS: '50',
    JOB_LOCK_MS: '5000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    LOG_LEVEL: 'debug',
    ...opts.env,
  });
  // On a cluster the config wraps the prefix in a hash tag: the keys are under the wrapped one.
  const prefix = config.QUEUE_PREFIX;
  const { logs, logger } = capturedLogger();
  const pipeline = await App.open(config, { logger });
  // The same Redis as the pipeline (a test may give a private server in REDIS_URL).
  const redis = connectTestRedis(config.REDIS_URL);
  // Its commands reject while Redis is down; the connection errors themselves (a restart test) are expected.
  redis.on('error', () => undefined);
  const workers: TestWorkers[] = [];

  const harness: TestPipeline = {
    sim,
    config,
    pipeline,
    redis,
    prefix,
    logs,
    logger,
    workers,
    async startWorkers(o = {}) {
      const cfg = {
        ...config,
        ...(o.concurrency ? { WORKER_CONCURRENCY: o.concurrency } : {}),
        ...(o.redisUrl ? { REDIS_URL: o.redisUrl } : {}),
      };
      const app = await App.open(cfg, { logger, role: 'worker' });
      const started = await startWorkers(app, o.profile ? { profile: o.profile } : {}).catch(async (err: unknown) => {
        await app.close();
        throw err;
      });
      // The harness's workers own their app: closing them closes its connections too.
      const running: TestWorkers = {
        ...started,
        app,
        async close(timeoutMs) {
          const result = await started.close(timeoutMs);
          await app.close();
          return result;
        },
      };
      workers.push(running);
      return running;
    },
    async enqueue(customers, o = {}) {
      const profile = o.profile ?? STANDARD_PROFILE;
      const deps = { queue: pipeline.queue, store: pipeline.store, box: pipeline.box };
      const batch = { source: 'test', label: o.label ?? opts.label };
      return enqueueCustomers({ ...deps, profile, partnerTenantId: sim.seed.partnerTenantId }, batch, customers);
    },
    async waitForBatch(batchId, timeoutMs = 60_000) {
      let batch: BatchRecord | undefined;
      await until(
        async () => (batch = await pipeline.store.getBatch(batchId))?.ended === true,
        `batch ${batchId} to end`,
        timeoutMs,
      );
      return batch as BatchRecord;
    },
    async close() {
      await Promise.all(workers.map((w) => w.close(2000)));
      await pipeline.queue.obliterate({ force: true }).catch(() => undefined);
      await pipeline.callbacks.obliterate({ force: true }).catch(() => undefined);
      await pipeline.close();
      await removeKeys(redis, prefix);
      redis.disconnect();
      await sim.close();
    },
  };
  return harness;
}

/** A debug logger whose lines are kept as text, for tests to scan. */
export function capturedLogger(): { logs: string[]; logger: Logger } {
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _enc, done) {
        logs.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  return { logs, logger };
}

/** `n` distinct customers with realistic fields. */
export function sampleCustomers(n: number, tag: string, extra: Partial<CustomerRequest> = {}): CustomerRequest[] {
  return Array.from({ length: n }, (_, i) => ({
    name: `${tag} Customer ${i + 1}`,
    email: `admin${i + 1}@${tag.toLowerCase()}-customer.example`,
    external_id: `${tag}-${i + 1}`,
    first_name: 'Ada',
    last_name: `Admin${i + 1}`,
    ...extra,
  }));
}

/**
 * The outcome every pipeline test checks at the simulator: each customer has exactly one
 * tenant (by `customer_id`) and exactly one user (by login), and the user lives in that tenant.
 */
export function expectEachOnboardedOnce(
  state: SimulatorState,
  customers: readonly CustomerRequest[],
): { tenant: SimulatorTenant; user: SimulatorUser }[] {
  return customers.map((customer) => {
    const tenants = state.tenants.filter((x) => x.customer_id === customerKeyOf(customer));
    expect(tenants, `tenants of ${customer.name}`).toHaveLength(1);
    const users = state.users.filter((u) => u.login === (customer.login ?? customer.email));
    expect(users, `users with login ${customer.login ?? customer.email}`).toHaveLength(1);
    expect(users[0]!.tenant_id, `${customer.name}'s user is in its tenant`).toBe(tenants[0]!.id);
    return { tenant: tenants[0]!, user: users[0]! };
  });
}
