/**
 * `npm run bench:reconcile -- [customers] [changed]`: what a reconcile sweep costs in API calls
 * (BENCHMARKS.md "Reconcile sweeps"). A simulator gets `customers` (5,000) customers of this
 * install, made through the API as the onboarding makes them (tenant with customer_id, the
 * profile's items, an admin with its role) and recorded as onboarded in Redis directly (the
 * pipeline's 8 steps per customer are not what is measured here). Then, each measured at the
 * simulator's stats: the first sweep (full), a sweep with nothing changed, and one after
 * `changed` (50) console edits through /__sim that move a tenant's or a user's updated_at.
 */
import { loadavg } from 'node:os';
import { App } from '../src/app/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { plannedSteps } from '../src/onboarding/chain.js';
import { planOfferingItems } from '../src/onboarding/offering-plan.js';
import { STANDARD_PROFILE } from '../src/onboarding/profile.js';
import { reconcileDeps } from '../src/reconcile/deps.js';
import { runSweep, type SweepReport } from '../src/reconcile/sweep.js';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { removeKeys, uniquePrefix } from '../test/helpers/redis.js';

const customers = Number(process.argv[2] ?? 5000);
const changed = Number(process.argv[3] ?? 50);
const PARALLEL = 32;
const profile = STANDARD_PROFILE;

const sim = await startSimulator({});
const config = loadConfig({
  REDIS_URL: 'redis://127.0.0.1:6379',
  QUEUE_PREFIX: uniquePrefix('bench-reconcile'),
  ACRONIS_BASE_URL: sim.url,
  ACRONIS_CLIENT_ID: sim.seed.clientId,
  ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
  SECRETS_KEY: generateSecretsKey(),
  ACRONIS_RATE_LIMIT: '100000',
  LOG_LEVEL: 'warn',
});
const app = await App.open(config, { logger: createLogger({ level: 'warn' }) });
const key = (n: number) => `bench-${String(n).padStart(5, '0')}`;

async function inParallel(count: number, run: (n: number) => Promise<void>): Promise<void> {
  let next = 1;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next <= count) await run(next++);
    }),
  );
}

/** The customers, at the API and in the store, as an onboarding leaves them. */
async function seed(): Promise<void> {
  const partner = sim.seed.partnerTenantId;
  const edition = profile.editions[0] as string;
  const plan = planOfferingItems({ available: await app.offers.availableForChild(partner, edition), profile, edition });
  const batch = await app.store.createBatch({ source: 'bench', label: `${customers} seeded customers` });
  await inParallel(customers, async (n) => {
    const tenant = await app.acronis.createTenant({
      name: `Bench ${n}`,
      parent_id: partner,
      kind: 'customer',
      customer_id: key(n),
    });
    await app.acronis.putOfferingItems(tenant.id, plan);
    const login = `admin@${key(n)}.example`;
    const user = await app.acronis.createUser({ tenant_id: tenant.id, login, contact: { email: login } });
    await app.acronis.setAccessPolicies(user.id, [{ roleId: 'company_admin', tenantId: tenant.id }]);
    const facts = {
      tenantId: tenant.id,
      edition,
      userId: user.id,
      login,
      roles: ['company_admin'],
      activation: 'email-sent' as const,
    };
    await app.store.healRecord({
      key: key(n),
      batchId: batch.id,
      position: n,
      name: `Bench ${n}`,
      steps: plannedSteps(profile),
      facts,
    });
  });
}

async function consoleEdit(what: string, body: object): Promise<void> {
  const response = await fetch(`${sim.url}/__sim/${what}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 204) throw new Error(`PUT /__sim/${what}: ${response.status}`);
}

/** `changed` customers edited in the console, five kinds in turn, every one moving an updated_at. */
async function changeSome(running: RunningSimulator): Promise<void> {
  const state = running.state();
  const step = Math.floor(customers / changed);
  for (let i = 0; i < changed; i++) {
    const tenant = state.tenants.find((t) => t.customer_id === key(1 + i * step))!;
    const user = state.users.find((u) => u.tenant_id === tenant.id)!;
    const edits: [string, object][] = [
      ['tenant', { tenant_id: tenant.id, enabled: false }],
      ['user', { user_id: user.id, activated: true }],
      ['tenant', { tenant_id: tenant.id, mfa: true }],
      ['tenant', { tenant_id: tenant.id, pricing_mode: 'production' }],
      ['user', { user_id: user.id, enabled: false }],
    ];
    const [what, body] = edits[i % edits.length]!;
    await consoleEdit(what, body);
  }
}

interface Measured {
  label: string;
  report: SweepReport;
  simCalls: number;
  ms: number;
}

async function measure(label: string, opts: { full?: boolean }): Promise<Measured> {
  sim.resetStats();
  const started = performance.now();
  // Sweeps here run seconds apart: no overlap, or each would read again what changed in the minute before the last.
  const report = await runSweep(await reconcileDeps(app, profile), { ...opts, overlapMs: 0 });
  return { label, report, simCalls: sim.stats().total, ms: performance.now() - started };
}

const seedStarted = performance.now();
await seed();
const seedMs = performance.now() - seedStarted;
const results: Measured[] = [];
results.push(await measure('first sweep (full)', {}));
results.push(await measure('nothing changed', {}));
await changeSome(sim);
results.push(await measure(`${changed} changed`, {}));

console.log(
  `${customers} customers seeded in ${(seedMs / 1000).toFixed(1)} s; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log('| sweep | mode | customers read | listing pages | calls (simulator) | calls per customer read | time |');
console.log('|---|---|---|---|---|---|---|');
for (const { label, report, simCalls, ms } of results) {
  const perRead =
    report.customersChecked > 0 ? ((simCalls - report.listingPages) / report.customersChecked).toFixed(2) : '-';
  console.log(
    `| ${label} | ${report.mode} | ${report.customersChecked} | ${report.listingPages} | ${simCalls} | ${perRead} (+ pages) | ${(ms / 1000).toFixed(1)} s |`,
  );
}
const last = results[results.length - 1]!;
console.log(`after the edits: ${last.report.drifting} drifting, by kind ${JSON.stringify(last.report.byKind)}`);

await removeKeys(app.redis, config.QUEUE_PREFIX);
await app.close();
await sim.close();
