import { Writable } from 'node:stream';
import type { Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger, type Logger } from '../../src/logger.js';
import { customerKeyOf, type CustomerRequest } from '../../src/onboarding/customer-request.js';
import { STANDARD_PROFILE, type Profile } from '../../src/onboarding/profile.js';
import { generateSecretsKey } from '../../src/secrets/secret-box.js';
import type { EnqueueResult } from '../../src/workers/enqueue.js';
import type { BatchRecord } from '../../src/workers/onboarding-store.js';
import {
  enqueueWithConfig,
  openPipeline,
  startWorkers,
  type Pipeline,
  type RunningWorkers,
} from '../../src/workers/runtime.js';
import { connectRedis, removeKeys, uniquePrefix } from './redis.js';
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
  pipeline: Pipeline;
  redis: Redis;
  prefix: string;
  logs: string[];
  logger: Logger;
  workers: RunningWorkers[];
  startWorkers(opts?: { profile?: Profile; concurrency?: number }): Promise<RunningWorkers>;
  enqueue(customers: CustomerRequest[], opts?: { profile?: Profile; label?: string }): Promise<EnqueueResult>;
  waitForBatch(batchId: string, timeoutMs?: number): Promise<BatchRecord>;
  close(): Promise<void>;
}

export interface TestPipelineOptions {
  label: string;
  env?: Record<string, string>;
  sim?: Partial<SimulatorOptions>;
}

export async function startTestPipeline(opts: TestPipelineOptions): Promise<TestPipeline> {
  const sim = await startTestSimulator({ validateResponses: true, ...opts.sim });
  const prefix = uniquePrefix(opts.label);
  const config = loadConfig({
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
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
  const pipeline = await openPipeline(config);
  // The same Redis as the pipeline (a test may give a private server in REDIS_URL).
  const redis = connectRedis(config.REDIS_URL);
  // Its commands reject while Redis is down; the connection errors themselves (a restart test) are expected.
  redis.on('error', () => undefined);
  const workers: RunningWorkers[] = [];

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
      const cfg = o.concurrency ? { ...config, WORKER_CONCURRENCY: o.concurrency } : config;
      const running = await startWorkers(cfg, { logger, ...(o.profile ? { profile: o.profile } : {}) });
      workers.push(running);
      return running;
    },
    async enqueue(customers, o = {}) {
      const profile = o.profile ?? STANDARD_PROFILE;
      return enqueueWithConfig(
        pipeline,
        { profile, partnerTenantId: sim.seed.partnerTenantId },
        { source: 'test', label: o.label ?? opts.label },
        customers,
      );
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
      await pipeline.close();
      await removeKeys(redis, prefix);
      redis.disconnect();
      await sim.close();
    },
  };
  return harness;
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
