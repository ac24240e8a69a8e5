/**
 * `npm run bench:reconcile -- [customers] [changed]`: what a reconcile sweep costs in API calls
 * (BENCHMARKS.md "Reconcile sweeps"). A simulator gets `customers` (5,000) customers of this
 * install, made through the API as the onboarding makes them (tenant with customer_id, the
 * profile's items, an admin with its role) and recorded as onboarded in Redis directly (the
 * pipeline's 8 steps per customer are not what is measured here). Then, each measured at the
 * simulator's stats: the first sweep, one with nothing changed, one after agents are registered
 * on all but 100, one with nothing changed again, one after `changed` (50) console edits through
 * /__sim (quota, role, item off, tenant disabled, admin deleted: whether the sweep found each),
 * and a `--full` one.
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
import { startSimulator } from '../src/simulator/index.js';
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

type Edit = (state: SimState, tenantId: string, userId: string) => [string, object];
const EDITS: { kind: string; edit: Edit }[] = [
  { kind: 'quota', edit: (s, t) => ['quota', { tenant_id: t, name: itemName(s, t, 'workstations'), value: 7 }] },
  { kind: 'admin-role', edit: (_, __, u) => ['user', { user_id: u, roles: ['readonly_admin'] }] },
  { kind: 'offering-items', edit: (s, t) => ['item', { tenant_id: t, name: itemName(s, t, 'servers'), status: 0 }] },
  { kind: 'tenant-disabled', edit: (_, t) => ['tenant', { tenant_id: t, enabled: false }] },
  { kind: 'admin-missing', edit: (_, __, u) => ['user', { user_id: u, deleted: true }] },
];

type SimState = ReturnType<typeof sim.state>;

function itemName(state: SimState, tenantId: string, usageName: string): string {
  return state.offeringItems[tenantId]!.find((i) => i.usage_name === usageName)!.name;
}

/** The customers' tenants by customer_id: one look at the simulator's state, not one per customer. */
function tenantsByKey(state: SimState): Map<string, string> {
  return new Map(state.tenants.flatMap((t) => (t.customer_id ? [[t.customer_id, t.id] as [string, string]] : [])));
}

/** `changed` customers edited in the console, five kinds in turn (two of them, quota and role, move no updated_at). */
async function changeSome(): Promise<Map<string, string>> {
  const state = sim.state();
  const step = Math.floor(customers / changed);
  const expected = new Map<string, string>();
  for (let i = 0; i < changed; i++) {
    const tenant = state.tenants.find((t) => t.customer_id === key(1 + i * step))!;
    const user = state.users.find((u) => u.tenant_id === tenant.id)!;
    const { kind, edit } = EDITS[i % EDITS.length]!;
    await consoleEdit(...edit(state, tenant.id, user.id));
    expected.set(key(1 + i * step), kind);
  }
  return expected;
}

/** An agent on every customer but the last `without` (as a week after onboarding: most have one). */
async function registerAgents(without: number): Promise<void> {
  const state = sim.state();
  const tenants = tenantsByKey(state);
  await inParallel(customers - without, async (n) => {
    const tenantId = tenants.get(key(n))!;
    await consoleEdit('usage', { tenant_id: tenantId, name: itemName(state, tenantId, 'workstations'), value: 1 });
  });
}

interface Measured {
  label: string;
  report: SweepReport;
  simCalls: number;
  usagesCalls: number;
  ms: number;
}

async function measure(label: string, opts: { full?: boolean }): Promise<Measured> {
  sim.resetStats();
  const started = performance.now();
  const report = await runSweep(await reconcileDeps(app, profile), opts);
  const stats = sim.stats();
  const usagesCalls = Object.values(stats.byEndpoint['GET /tenants/usages'] ?? {}).reduce((a, b) => a + b, 0);
  return { label, report, simCalls: stats.total, usagesCalls, ms: performance.now() - started };
}

const seedStarted = performance.now();
await seed();
const seedMs = performance.now() - seedStarted;
const results: Measured[] = [];
const stillWithout = 100;
results.push(await measure('first sweep (no agent anywhere)', {}));
results.push(await measure('nothing changed, no agent anywhere', {}));
await registerAgents(stillWithout);
results.push(await measure(`agents registered on all but ${stillWithout}`, {}));
results.push(await measure(`nothing changed, ${stillWithout} without an agent`, {}));
const expected = await changeSome();
const afterEdits = await measure(`${changed} changed by console edits`, {});
results.push(afterEdits);
results.push(await measure('--full', { full: true }));

console.log(
  `${customers} customers seeded in ${(seedMs / 1000).toFixed(1)} s; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(
  '| sweep | mode | customers compared | listing pages | usages calls | calls in all | calls per customer | time |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const { label, report, simCalls, usagesCalls, ms } of results) {
  const perCustomer = (simCalls / Math.max(1, report.customersChecked)).toFixed(4);
  console.log(
    `| ${label} | ${report.mode} | ${report.customersChecked} | ${report.listingPages} | ${usagesCalls} | ${simCalls} | ${perCustomer} | ${(ms / 1000).toFixed(1)} s |`,
  );
}
const kindsOf = new Map(afterEdits.report.findings.map((f) => [f.customerId, f.differences.map((d) => d.kind)]));
const found = [...expected].filter(([k, kind]) => kindsOf.get(k)?.includes(kind as never)).length;
const byKind = [...new Set(expected.values())].map(
  (kind) => `${kind} ${[...expected.values()].filter((k) => k === kind).length}`,
);
console.log(`console edits found by the ordinary sweep: ${found} of ${expected.size} (${byKind.join(', ')})`);
console.log(
  `after the edits: ${afterEdits.report.drifting} drifting, by kind ${JSON.stringify(afterEdits.report.byKind)}`,
);

await removeKeys(app.redis, config.QUEUE_PREFIX);
await app.close();
await sim.close();
