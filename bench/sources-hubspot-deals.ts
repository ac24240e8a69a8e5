/**
 * `npm run bench:sources:deals`: 1,000 deals won in one minute in the simulated HubSpot, end to
 * end (issue 20, BENCHMARKS.md "1,000 HubSpot deals won in one minute"). In this process: `serve`
 * with one HubSpot source, the workers (intake and onboarding steps), the simulated HubSpot and
 * the Acronis simulator, real Redis. The deals (each with a company and a contact) are seeded,
 * then moved to closedwon one after the other over SECONDS; the simulated HubSpot posts its signed
 * v3 app webhooks, batched as it batches them. The bench waits until every deal is onboarded on
 * the Acronis simulator and written back, then reports: tenants per customer key (exactly one
 * each), the HubSpot API calls and the most admitted in one of its rolling windows against its
 * limit, the time to the last customer onboarded, and the events by outcome.
 *
 *   npm run bench:sources:deals -- [deals=1000] [seconds=60]
 *
 * HubSpot's limit is a Professional private app's, 190 requests per rolling 10 s; the source's
 * own limit is set under it (18/s). The Acronis side is bench:onboard's main run: the simulator
 * at 80 ± 40 ms and limited to 100/s, ACRONIS_RATE_LIMIT=100, 16 step jobs at a time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { App } from '../src/app/app.js';
import { startServer } from '../src/app/server.js';
import { startWorkers } from '../src/app/workers.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { startHubSpotSimulator } from '../src/simulator/hubspot/index.js';
import { startSimulator } from '../src/simulator/index.js';
import { SourceIntakeStore } from '../src/sources/intake-store.js';
import { removeKeys } from '../test/helpers/redis.js';

const [deals = 1000, seconds = 60] = process.argv.slice(2).map(Number);
const HUBSPOT_LIMIT = { max: 190, windowMs: 10_000 };
const SOURCE_PER_SECOND = 18;
const ACRONIS_RATE = 100;
const WAIT_LIMIT_MS = 20 * 60_000;

const clientSecret = randomBytes(16).toString('hex');
const accessToken = `pat-na1-${randomBytes(12).toString('hex')}`;
process.env.BENCH_DEALS_HUBSPOT_SECRET = clientSecret;
process.env.BENCH_DEALS_HUBSPOT_TOKEN = accessToken;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const loads: number[] = [];
const sampleLoad = setInterval(() => loads.push(loadavg()[0]!), 5000);

const hubspot = await startHubSpotSimulator({ clientSecret, accessToken, rateLimit: HUBSPOT_LIMIT });
hubspot.defineCompanyProperties('acronis_tenant_id', 'acronis_admin_login', 'acronis_state');
const sim = await startSimulator({ port: 0, host: '127.0.0.1', latencyMs: 80, jitterMs: 40, rateLimit: ACRONIS_RATE });

const dir = mkdtempSync(join(tmpdir(), 'bench-deals-'));
writeFileSync(
  join(dir, 'hubspot.json'),
  JSON.stringify({
    kind: 'hubspot',
    rate_limit: { per_second: SOURCE_PER_SECOND },
    trigger: { all: [{ field: 'deal.dealstage', equals: ['closedwon'] }] },
    mapping: {
      name: 'company.name',
      email: 'contact.email',
      first_name: 'contact.firstname',
      last_name: 'contact.lastname',
    },
    settings: {
      client_secret_env: 'BENCH_DEALS_HUBSPOT_SECRET',
      access_token_env: 'BENCH_DEALS_HUBSPOT_TOKEN',
      api_base_url: hubspot.url,
      signature_versions: ['v3'],
    },
  }),
);
const config = loadConfig({
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: `bench-deals-${randomUUID().slice(0, 8)}`,
  ACRONIS_BASE_URL: sim.url,
  ACRONIS_CLIENT_ID: sim.seed.clientId,
  ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
  ACRONIS_RATE_LIMIT: String(ACRONIS_RATE),
  WORKER_CONCURRENCY: '16',
  SECRETS_KEY: generateSecretsKey(),
  WEBHOOK_SECRET: randomUUID(),
  SOURCES_DIR: dir,
  PORT: '0',
});
const logger = createLogger({ level: 'warn' });
const app = await App.open(config, { logger });
const server = await startServer(app);
const workerApp = await App.open(config, { logger, role: 'worker' });
const workers = await startWorkers(workerApp);
const redis = new Redis(config.REDIS_URL);
const store = new SourceIntakeStore(app.redis, app.keys);
// HubSpot gathers the events of a moment into one request (up to 100): here those of each second.
const sender = hubspot.setWebhook({
  mode: 'app',
  targetUrl: `${server.url}/webhooks/sources/hubspot`,
  batchWindowMs: 1000,
  retryDelaysMs: [1000, 5000, 30_000],
});

const tag = randomUUID().slice(0, 6);
const seeded = Array.from({ length: deals }, (_, i) =>
  hubspot.seedDeal({
    company: { name: `Deal ${i} ${tag} GmbH` },
    contact: { email: `it${i}@deal-${tag}.example`, firstname: 'Ada', lastname: `Admin${i}` },
  }),
);
const dealIds = new Set(seeded.map((d) => d.dealId));

/** Tenants on the Acronis simulator per deal id (the customer key names the deal). */
function tenantsPerDeal(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const tenant of sim.state().tenants) {
    const dealId = /:(\d+)$/.exec(String(tenant.customer_id ?? ''))?.[1];
    if (dealId !== undefined && dealIds.has(dealId)) counts.set(dealId, (counts.get(dealId) ?? 0) + 1);
  }
  return counts;
}

try {
  const loadBefore = loadavg();
  const started = performance.now();
  for (const [i, deal] of seeded.entries()) {
    const wait = started + (i * seconds * 1000) / deals - performance.now();
    if (wait > 1) await sleep(wait);
    hubspot.moveDealStage(deal.dealId, 'closedwon');
  }
  const movedIn = (performance.now() - started) / 1000;
  let lastOnboardedAt = 0;
  let onboarded = 0;
  while (performance.now() - started < WAIT_LIMIT_MS) {
    onboarded = tenantsPerDeal().size;
    if (onboarded >= deals) {
      lastOnboardedAt = (performance.now() - started) / 1000;
      break;
    }
    await sleep(250);
  }
  // The write-backs follow the onboarding: wait for them (or say how far they got).
  const patches = () => hubspot.calls.get('PATCH /crm/v3/objects/:type/:id') ?? 0;
  while (performance.now() - started < WAIT_LIMIT_MS && patches() < deals) await sleep(500);
  const writtenBackAt = (performance.now() - started) / 1000;
  await sender.settled();

  const perDeal = tenantsPerDeal();
  const twice = [...perDeal.values()].filter((n) => n > 1).length;
  const outcomes = await store.outcomeCounts('hubspot');
  const attempts = sender.attempts;
  const statuses = new Map<string, number>();
  for (const a of attempts) statuses.set(String(a.status), (statuses.get(String(a.status)) ?? 0) + 1);
  const apiCalls = [...hubspot.calls.values()].reduce((a, b) => a + b, 0);

  console.log(
    `sources: ${deals} HubSpot deals won over ${seconds} s (moved in ${movedIn.toFixed(1)} s), serve + workers in-process`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z, load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, during (1 min, every 5 s) min ${Math.min(...loads).toFixed(1)} max ${Math.max(...loads).toFixed(1)}`,
  );
  console.log(
    `onboarded: ${perDeal.size} of ${deals} deals have a tenant, ${twice} more than one; last onboarded at ${lastOnboardedAt ? `${lastOnboardedAt.toFixed(1)} s` : 'never (gave up)'}; write-backs ${patches()} by ${writtenBackAt.toFixed(1)} s`,
  );
  console.log(
    `webhook requests: ${attempts.length} (${[...statuses].map(([s, c]) => `${s}×${c}`).join(' ')}), events per request ${(deals / attempts.length).toFixed(1)} on average`,
  );
  console.log(`events by outcome: ${JSON.stringify(outcomes)}`);
  console.log(
    `HubSpot API: ${apiCalls} calls (${[...hubspot.calls].map(([r, c]) => `${r} ${c}`).join('; ')}), peak ${hubspot.window.peak} in a ${HUBSPOT_LIMIT.windowMs / 1000} s window of ${HUBSPOT_LIMIT.max} allowed, refused (429) ${hubspot.window.refused}`,
  );
  console.log(`Acronis simulator: ${JSON.stringify(sim.stats())}`);
} finally {
  clearInterval(sampleLoad);
  await sender.settled();
  await server.close();
  await workers.close(5000);
  await workerApp.close();
  await app.close();
  await hubspot.close();
  await sim.close();
  await removeKeys(redis, config.QUEUE_PREFIX);
  redis.disconnect();
}
