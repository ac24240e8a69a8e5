/**
 * `npm run bench:adopt`: `adopt --all-unmanaged` over a partner with N customers made elsewhere
 * (BENCHMARKS.md "Adopting customers made elsewhere"). The simulator (80 ± 40 ms, limited to the
 * rate) and 32 workers run in this process, on a private Redis. Reported: the plan (one listing of
 * the partner's children and one read of the store), the wall time until the batch ended, the API
 * calls per adopted customer by endpoint, and a second run's cost (a no-op).
 *
 *   npm run bench:adopt -- [customers] [rate]     (default 5000 100)
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { adopt } from '../src/adopt/adopt-run.js';
import { openAdopt } from '../src/app/adopt-deps.js';
import { App } from '../src/app/app.js';
import { startWorkers } from '../src/app/workers.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { STANDARD_PROFILE } from '../src/onboarding/profile.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { startSimulator } from '../src/simulator/index.js';
import { startPrivateRedis } from '../test/helpers/redis-server.js';

const customers = Number(process.argv[2] ?? 5000);
const rate = Number(process.argv[3] ?? 100);
const requester = { kind: 'operator', label: 'bench' } as const;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

const redisServer = await startPrivateRedis(['--appendonly', 'no']);
const sim = await startSimulator({ latencyMs: 80, jitterMs: 40, rateLimit: rate, customers });
const config = loadConfig({
  REDIS_URL: redisServer.url,
  QUEUE_PREFIX: `bench-adopt-${randomUUID().slice(0, 8)}`,
  ACRONIS_BASE_URL: sim.url,
  ACRONIS_CLIENT_ID: sim.seed.clientId,
  ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
  SECRETS_KEY: generateSecretsKey(),
  ACRONIS_RATE_LIMIT: String(rate),
  WORKER_CONCURRENCY: '32',
  LOG_LEVEL: 'warn',
});
const logger = createLogger({ level: 'warn' });
const producer = await App.open(config, { logger });
const workerApp = await App.open(config, { logger, role: 'worker' });
const workers = await startWorkers(workerApp, { profile: STANDARD_PROFILE });

try {
  console.log(
    `${customers} customers made elsewhere, rate ${rate}/s; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, ${new Date().toISOString().slice(0, 16)} UTC; load average before: ${load()}`,
  );
  const deps = await openAdopt(producer);
  sim.resetStats();
  const started = Date.now();
  const report = await adopt(deps, { allUnmanaged: true, keyFrom: 'name' }, { requester });
  const planned = Date.now();
  const batchId = report.queued?.result.batch.id;
  if (!batchId) throw new Error('nothing queued');
  let batch = await producer.store.getBatch(batchId);
  while (!batch?.ended) {
    await sleep(250);
    batch = await producer.store.getBatch(batchId);
  }
  await sleep(500);
  const records = (await producer.store.batchCustomers(batchId)).map((c) => c.record);
  const lastEnded = Math.max(...records.map((r) => Date.parse(r?.finishedAt ?? '') || Date.now()));
  const stats = sim.stats();
  const api = stats.total - stats.tokenIssues;
  const byEndpoint = Object.entries(stats.byEndpoint)
    .filter(([endpoint]) => endpoint !== 'POST /idp/token')
    .map(([endpoint, byStatus]) => {
      const n = Object.values(byStatus).reduce((a, b) => a + b, 0);
      return `${endpoint} ${n === 1 ? 'once' : (n / customers).toFixed(2)}`;
    })
    .join(', ');
  const seconds = (lastEnded - started) / 1000;
  console.log(
    `| adopt --all-unmanaged | ${customers} | ${batch.done} done, ${batch.failed} failed | plan + queue ${((planned - started) / 1000).toFixed(1)} s | ${seconds.toFixed(1)} s | ${(api / customers).toFixed(2)} | ${(api / seconds).toFixed(1)} | ${byEndpoint} | ${load()} |`,
  );
  sim.resetStats();
  const againStarted = Date.now();
  const again = await adopt(deps, { allUnmanaged: true, keyFrom: 'name' }, { requester });
  // The simulator counts an answer once it is sent (fastify's onResponse), which may be after the client read it.
  await sleep(500);
  const againStats = sim.stats();
  console.log(
    `run again: ${again.plan.adopt.length} to adopt, ${again.queued ? 'a batch queued' : 'nothing queued'}, ${againStats.total - againStats.tokenIssues} calls, ${((Date.now() - againStarted) / 1000).toFixed(1)} s; load average after: ${load()}`,
  );
} finally {
  await workers.close(2000);
  await workerApp.close();
  await producer.close();
  await sim.close();
  await redisServer.destroy();
}
