/**
 * How fast a batch of customers goes through the whole pipeline, and how much of the API
 * budget it uses: the simulator in its own process (with latency, as a real data centre
 * has), N `acronis-onboard work` processes, the customers enqueued as one batch. Figures:
 * wall time, customers per second, requests per second against ACRONIS_RATE_LIMIT, the
 * highest one-second count the simulator saw, and the calls per customer.
 *
 *   npm run bench:pipeline -- [customers=350] [rateLimit=50] [workers=2] [latencyMs=40]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { loadConfig } from '../src/config.js';
import { STANDARD_PROFILE } from '../src/onboarding/profile.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { App } from '../src/app/app.js';
import { createLogger } from '../src/logger.js';
import { enqueueCustomers } from '../src/workers/enqueue.js';
import { startSimProcess } from './sim-process.js';
import { removeKeys } from '../test/helpers/redis.js';

const ROOT = resolve(import.meta.dirname, '..');
const [customers = 350, rateLimit = 50, workerCount = 2, latencyMs = 40] = process.argv.slice(2).map(Number);

const sim = await startSimProcess(['--latency', String(latencyMs), '--jitter', String(Math.round(latencyMs / 2))]);
const { vars } = sim;
const prefix = `bench-${randomUUID().slice(0, 8)}`;
const env: Record<string, string> = {
  ...vars,
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: prefix,
  SECRETS_KEY: generateSecretsKey(),
  ACRONIS_RATE_LIMIT: String(rateLimit),
  WORKER_CONCURRENCY: '16',
  LOG_LEVEL: 'warn',
};
const config = loadConfig(env);
const workers = Array.from({ length: workerCount }, () =>
  spawn(process.execPath, ['bin/acronis-onboard.js', 'work'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  }),
);
const pipeline = await App.open(config, { logger: createLogger({ level: 'warn' }) });
const redis = new Redis(config.REDIS_URL);
try {
  // Let every worker finish its start-up (token, profile check) before the clock starts.
  await new Promise((r) => setTimeout(r, 3000));
  await fetch(`${vars.ACRONIS_BASE_URL}/__sim/stats/reset`, { method: 'POST' });
  const requests = Array.from({ length: customers }, (_, i) => ({
    name: `Bench Customer ${i + 1}`,
    email: `admin${i + 1}@bench-customer.example`,
    external_id: `bench-${i + 1}`,
  }));
  const started = performance.now();
  const { batch } = await enqueueCustomers(
    {
      queue: pipeline.queue,
      store: pipeline.store,
      box: pipeline.box,
      profile: STANDARD_PROFILE,
      partnerTenantId: (
        (await (await fetch(`${vars.ACRONIS_BASE_URL}/__sim/seed`)).json()) as { partnerTenantId: string }
      ).partnerTenantId,
    },
    { source: 'bench', label: 'pipeline-throughput' },
    requests,
  );
  const enqueuedMs = performance.now() - started;
  let ended = await pipeline.store.getBatch(batch.id);
  while (!ended?.ended) {
    await new Promise((r) => setTimeout(r, 200));
    ended = await pipeline.store.getBatch(batch.id);
  }
  const seconds = (performance.now() - started) / 1000;
  const stats = (await (await fetch(`${vars.ACRONIS_BASE_URL}/__sim/stats`)).json()) as {
    total: number;
    maxRequestsPerSecond: number;
    tokenIssues: number;
    byEndpoint: Record<string, Record<string, number>>;
  };
  console.log(
    `pipeline throughput: ${customers} customers, ACRONIS_RATE_LIMIT=${rateLimit}, ${workerCount} worker processes × 16, simulator latency ${latencyMs}±${Math.round(latencyMs / 2)} ms`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table([
    {
      customers,
      done: ended.done,
      failed: ended.failed,
      enqueueMs: Math.round(enqueuedMs),
      seconds: seconds.toFixed(1),
      customersPerSecond: (customers / seconds).toFixed(2),
      requests: stats.total,
      requestsPerSecond: (stats.total / seconds).toFixed(1),
      budgetUsed: `${Math.round((100 * stats.total) / seconds / rateLimit)} %`,
      peakPerSecondAtSimulator: stats.maxRequestsPerSecond,
      tokenIssues: stats.tokenIssues,
    },
  ]);
  const perCustomer = Object.fromEntries(
    Object.entries(stats.byEndpoint).map(([endpoint, byStatus]) => [
      endpoint,
      +(Object.values(byStatus).reduce((a, b) => a + b, 0) / customers).toFixed(3),
    ]),
  );
  console.log('calls per customer:', perCustomer);
} finally {
  for (const worker of workers) worker.kill('SIGTERM');
  await Promise.all(workers.map((w) => new Promise((r) => w.once('exit', r))));
  sim.stop();
  await pipeline.queue.obliterate({ force: true }).catch(() => undefined);
  await pipeline.close();
  await removeKeys(redis, prefix);
  redis.disconnect();
}
