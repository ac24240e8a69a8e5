/**
 * `npm run bench:lifecycle`: lifecycle actions at the API's limit (BENCHMARKS.md "Lifecycle
 * actions at the API's limit"). 350 customers are onboarded first (not measured), then, each
 * phase measured on its own: their quotas changed (`change` with a profile whose quota differs),
 * all suspended, all resumed. Per phase: wall time, API calls per customer by endpoint, requests
 * per second and their share of the limit.
 *
 * One process: the simulator (80 ± 40 ms, limited to ACRONIS_RATE_LIMIT) and the workers (32).
 *
 *   npm run bench:lifecycle -- [customers] [rate]
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { App } from '../src/app/app.js';
import { startWorkers } from '../src/app/workers.js';
import { loadConfig } from '../src/config.js';
import type { ActionName, ActionParams, Requester } from '../src/lifecycle/action.js';
import { createLogger } from '../src/logger.js';
import { parseProfile, STANDARD_PROFILE } from '../src/onboarding/profile.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { startSimulator } from '../src/simulator/index.js';
import { batchEnded } from '../src/workers/action-store.js';
import { checkActions, enqueueActions } from '../src/workers/enqueue-action.js';
import { enqueueCustomers } from '../src/workers/enqueue.js';
import { removeKeys } from '../test/helpers/redis.js';

const customers = Number(process.argv[2] ?? 350);
const rate = Number(process.argv[3] ?? 100);
const BENCH: Requester = { kind: 'operator', label: 'bench' };

const sim = await startSimulator({ latencyMs: 80, jitterMs: 40, rateLimit: rate });
const prefix = `bench-lifecycle-${Date.now()}`;
const config = loadConfig({
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: prefix,
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
const partnerTenantId = sim.seed.partnerTenantId;

function machine(): string {
  const redis = execFileSync('redis-cli', ['info', 'server'], { encoding: 'utf8' });
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, Redis ${/redis_version:(\S+)/.exec(redis)?.[1] ?? '?'}, ${new Date().toISOString().slice(0, 16)} UTC`;
}

async function onboard(): Promise<string[]> {
  const requests = Array.from({ length: customers }, (_, i) => ({
    name: `Bench Customer ${i + 1}`,
    email: `admin${i + 1}@bench-customer.example`,
    external_id: `bench-${i + 1}`,
  }));
  const deps = {
    queue: producer.queue,
    store: producer.store,
    box: producer.box,
    profile: STANDARD_PROFILE,
    partnerTenantId,
  };
  const { batch } = await enqueueCustomers(deps, { source: 'bench', label: 'onboard' }, requests);
  for (;;) {
    const b = await producer.store.getBatch(batch.id);
    if (b?.ended) break;
    await sleep(250);
  }
  return requests.map((r) => r.external_id);
}

async function phase(action: ActionName, keys: string[], params: ActionParams): Promise<void> {
  const deps = { queue: producer.queue, store: producer.store, actions: producer.actions, partnerTenantId };
  const requests = keys.map((customer) => ({ customer, action, params, requester: BENCH }));
  const { accepted, problems } = await checkActions(deps, requests);
  if (problems.length > 0) throw new Error(`refused: ${problems[0]?.reason}`);
  sim.resetStats();
  const started = Date.now();
  const queued = await enqueueActions(deps, { action, source: 'bench', label: action }, accepted);
  let actions;
  for (;;) {
    actions = await producer.actions.batchActions(queued.batchId);
    if (batchEnded(actions)) break;
    await sleep(100);
  }
  const seconds = (Date.now() - started) / 1000;
  const stats = sim.stats();
  const api = stats.total - stats.tokenIssues;
  const perSecond = api / seconds;
  const byEndpoint = Object.entries(stats.byEndpoint)
    .filter(([endpoint]) => endpoint !== 'POST /idp/token')
    .map(
      ([endpoint, byStatus]) =>
        `${endpoint} ${(Object.values(byStatus).reduce((a, b) => a + b, 0) / keys.length).toFixed(2)}`,
    )
    .join(', ');
  const failed = actions.filter((a) => a.state !== 'done').length;
  console.log(
    `| ${action} | ${keys.length} | ${failed} | ${seconds.toFixed(1)} s | ${(api / keys.length).toFixed(2)} | ${perSecond.toFixed(1)} (${Math.round((100 * perSecond) / rate)} %) | ${stats.maxRequestsPerSecond} | ${byEndpoint} | ${loadavg()[0]?.toFixed(1)} |`,
  );
}

try {
  console.log(
    `machine: ${machine()}; load average before: ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const keys = await onboard();
  console.log(
    `\n${customers} customers onboarded; ACRONIS_RATE_LIMIT=${rate}, simulator 80 ± 40 ms limited to ${rate}/s\n`,
  );
  console.log(
    '| action | customers | not done | wall | API calls/customer | requests/s (of limit) | peak 1 s at sim | calls/customer by endpoint | load avg after |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  const moreSeats = parseProfile(
    {
      ...STANDARD_PROFILE,
      name: 'more-seats',
      offering_items: { ...STANDARD_PROFILE.offering_items, quotas: { workstations: { value: 80, overage: 5 } } },
    },
    'bench',
  );
  await phase('change', keys, { profile: moreSeats });
  await phase('suspend', keys, {});
  await phase('resume', keys, {});
} finally {
  await workers.close(2000);
  await workerApp.close();
  await producer.queue.obliterate({ force: true }).catch(() => undefined);
  await producer.close();
  const redis = new Redis('redis://127.0.0.1:6379');
  await removeKeys(redis, prefix);
  redis.disconnect();
  await sim.close();
}
