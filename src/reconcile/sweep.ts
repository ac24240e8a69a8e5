import type { ListedTenant } from '../acronis/tenant-listing.js';
import type { ListedUser } from '../acronis/user-listing.js';
import type { Logger } from '../logger.js';
import type { Requester } from '../lifecycle/action.js';
import type { OnboardingQueue } from '../workers/queue.js';
import { CountedReads, type ReconcileApi } from './api-reads.js';
import { checkCustomer, type CheckDeps, type SeenDetails } from './check-customer.js';
import { agentRegistered as agentRegisteredIn } from './compare.js';
import { DRIFT_KINDS, type CustomerDrift, type SweepSummary } from './drift.js';
import type { DriftStore } from './drift-store.js';
import { fixDepsOf } from './deps.js';
import { enqueueFix, type FixDeps, type FixOutcome } from './fix.js';
import { loadScope, type Scope, type ScopedCustomer, type SweepPartner } from './scope.js';
import { AcronisApiError } from '../acronis/errors.js';

/**
 * A reconcile sweep (docs/reconcile.md): the partner's tenants listed with their offering items
 * inline, its users listed with their roles, the usages of the customers not yet known to have an
 * agent read in batches of 100; every customer compared from those pages (no per-customer read)
 * and its finding kept in the drift store.
 */
export interface SweepDeps extends CheckDeps {
  acronis: ReconcileApi;
  /** The step queue of a customer's data centre (its record's `partner`): whether its chain is still in flight. */
  queueFor(partner: string | undefined): OnboardingQueue;
  drifts: DriftStore;
  /** What `--fix` queues through (the lifecycle's checks and queue, resend-activation). */
  fix: Omit<FixDeps, 'profile' | 'drifts'>;
  logger?: Logger;
}

export interface SweepOptions {
  /** Also ask the usages of customers an earlier sweep saw with an agent (one call per 100). */
  full?: boolean;
  fix?: boolean;
  /** Only these customers (the same pages are read, their usages asked); the cursor is left where it is. */
  customerIds?: readonly string[];
  requester?: Requester;
  /** How far before the last cursor a tenant's `updated_at` counts as changed; default CURSOR_OVERLAP_MS. */
  overlapMs?: number;
  /** With several partners: only this partner's tenants and customers (`reconcile --partner`); default every partner. */
  partner?: string;
}

export interface SweepReport extends SweepSummary {
  /** This sweep's findings (customers it read), in customer order. */
  findings: CustomerDrift[];
  fixes: FixOutcome[];
  /** Customers asked for that neither a record, a batch nor a tenant knows. */
  unknown: string[];
  /** Customers the API refused to show. Kept for the JSON contract: with no per-customer read left it stays empty. */
  unread: { customerId: string; reason: string }[];
  /** With several partners: those whose tenants could not be read (a refused API client), with why. */
  partnersNotRead?: { partner: string; reason: string }[];
}

/**
 * The cursor (the listing's `timestamp`, the API's own clock) only counts the tenants changed
 * since the last sweep for its summary; a change committed just before it may carry an
 * `updated_at` a little older, so the minute before it counts too.
 */
export const CURSOR_OVERLAP_MS = 60_000;
/** Customers compared at once: each is Redis reads and writes only, the API's part is done. */
const PARALLEL_CHECKS = 8;
const REQUESTER: Requester = { kind: 'operator', label: 'reconcile --fix' };

export async function runSweep(deps: SweepDeps, opts: SweepOptions = {}): Promise<SweepReport> {
  return runSweeps([{ open: () => Promise.resolve(deps) }], opts);
}

/**
 * One partner's part of a sweep (docs/reconcile.md "Several partners"): opened when its turn
 * comes, so a partner whose API client is refused is reported and the others are still read.
 */
export interface SweepLane {
  /** Absent with one partner. */
  partner?: string;
  open(): Promise<SweepDeps>;
}

/** Each partner's tenants read through its own lane, in turn (the default partner first), and one summary of them all. */
export async function runSweeps(lanes: readonly SweepLane[], opts: SweepOptions = {}): Promise<SweepReport> {
  const startedAt = Date.now();
  const passes: PartnerPass[] = [];
  const notRead: { partner: string; reason: string }[] = [];
  let drifts: DriftStore | undefined;
  let firstRefusal: unknown;
  for (const lane of lanes) {
    try {
      const deps = await lane.open();
      drifts = deps.drifts;
      passes.push(await sweepPartner(deps, opts, startedAt));
    } catch (err) {
      // One partner refused leaves the others read; only the API's answers are a partner's own.
      if (lane.partner === undefined || !(err instanceof AcronisApiError)) throw err;
      notRead.push({ partner: lane.partner, reason: err.message });
      firstRefusal ??= err;
    }
  }
  if (!drifts || passes.length === 0) throw firstRefusal;
  const findings = passes.flatMap((p) => p.findings).sort((a, b) => a.customerId.localeCompare(b.customerId));
  const summary = await summarise(drifts, {
    startedAt,
    mode: passes.every((p) => p.full) ? 'full' : 'incremental',
    listingPages: sum(passes, (p) => p.listingPages),
    calls: sum(passes, (p) => p.calls),
    tenantsChanged: sum(passes, (p) => p.tenantsChanged),
    customersChecked: findings.length,
    healed: sum(passes, (p) => p.healed),
  });
  await drifts.saveSweep(summary);
  passes[0]?.logger?.info({ ...summary }, 'reconcile: sweep done');
  // A customer asked for is unknown only when no partner's pass knew it.
  const unknown = (passes[0]?.unknown ?? []).filter((k) => passes.every((p) => p.unknown.includes(k)));
  const fixes = passes.flatMap((p) => p.fixes);
  return {
    ...summary,
    findings,
    fixes,
    unknown,
    unread: [],
    ...(notRead.length > 0 ? { partnersNotRead: notRead } : {}),
  };
}

interface PartnerPass {
  findings: CustomerDrift[];
  fixes: FixOutcome[];
  unknown: string[];
  full: boolean;
  healed: number;
  listingPages: number;
  calls: number;
  tenantsChanged: number;
  logger: Logger | undefined;
}

async function sweepPartner(deps: SweepDeps, opts: SweepOptions, startedAt: number): Promise<PartnerPass> {
  const reads = new CountedReads(deps.acronis);
  const scope = await loadScope(deps, opts.customerIds);
  // The default partner keeps the cursor of an install from before partners.
  const cursorOf = deps.partner && !deps.partner.isDefault ? deps.partner.name : undefined;
  const cursor = await deps.drifts.cursor(cursorOf);
  const full = opts.full === true || cursor === null || opts.customerIds !== undefined;
  const listing = await reads.subtreeTenants(deps.partnerTenantId);
  const users = await reads.subtreeUsers(deps.partnerTenantId);
  const seen = await seenCustomers(deps, reads, scope, listing.tenants, users, full);
  // A lost record is anyone's: another partner's pass than the default's leaves it unless its tenants show it.
  const toRead = deps.partner?.isDefault === false ? seen.filter((r) => r.customer.record || r.tenant) : seen;
  const { findings, healed, gone } = await checkAll(deps, toRead);
  findings.sort((a, b) => a.customerId.localeCompare(b.customerId));
  await deps.drifts.save(findings);
  for (const key of gone) await deps.drifts.forget(key);
  if (!opts.customerIds)
    await deps.drifts.setCursor(listing.timestamp ? Date.parse(listing.timestamp) : startedAt, cursorOf);
  const fixes = opts.fix ? await fixAll(deps, scope, opts.requester ?? REQUESTER) : [];
  const sinceMs = cursor === null ? 0 : cursor - (opts.overlapMs ?? CURSOR_OVERLAP_MS);
  const known = new Set(findings.map((f) => f.customerId));
  return {
    findings,
    fixes,
    unknown: (scope.asked ?? []).filter((k) => !known.has(k) && !scope.customers.get(k)?.record),
    full,
    healed,
    listingPages: reads.listingPages,
    calls: reads.calls,
    tenantsChanged: toRead.filter(({ tenant: t }) => t && (!t.updated_at || Date.parse(t.updated_at) > sinceMs)).length,
    logger: deps.logger,
  };
}

const sum = <T>(items: readonly T[], of: (item: T) => number) => items.reduce((n, item) => n + of(item), 0);

interface ToRead {
  customer: ScopedCustomer;
  tenant: ListedTenant | undefined;
  seen: SeenDetails;
}

/** Each customer compared from the pages: its finding (none for one offboarded or never created). */
async function checkAll(deps: SweepDeps, toRead: readonly ToRead[]) {
  const findings: CustomerDrift[] = [];
  const gone: string[] = [];
  let healed = 0;
  let healBatch: Promise<string> | undefined;
  const healBatchId = () =>
    (healBatch ??= deps.store
      .createBatch({ source: 'reconcile', label: 'records rebuilt by reconcile' })
      .then((b) => b.id));
  await eachLimited(toRead, PARALLEL_CHECKS, async ({ customer, tenant, seen }) => {
    const outcome = await checkCustomer(deps, customer, tenant, seen, healBatchId);
    if (outcome.drift) findings.push(outcome.drift);
    else gone.push(customer.key);
    if (outcome.healed) healed++;
  });
  return { findings, healed, gone };
}

/**
 * Every customer of the scope with its tenant (by `customer_id`, else the recorded tenant id),
 * that tenant's users, and whether it has an agent: known from its last finding, else (and on a
 * full sweep always) from the batched usages read of the live tenants still without one.
 */
async function seenCustomers(
  deps: SweepDeps,
  reads: CountedReads,
  scope: Scope,
  listed: readonly ListedTenant[],
  users: readonly ListedUser[],
  full: boolean,
): Promise<ToRead[]> {
  const byCustomerId = new Map<string, ListedTenant>();
  const byId = new Map(listed.map((t) => [t.id, t]));
  for (const t of listed)
    if (t.customer_id && (!t.deleted_at || !byCustomerId.has(t.customer_id))) byCustomerId.set(t.customer_id, t);
  const usersOf = new Map<string, ListedUser[]>();
  for (const u of users) usersOf.set(u.tenant_id, [...(usersOf.get(u.tenant_id) ?? []), u]);
  const customers = [...scope.customers.values()];
  const tenants = customers.map((c) => {
    const tenantId = c.record?.facts.tenantId;
    const found = byCustomerId.get(c.key) ?? (tenantId ? byId.get(tenantId) : undefined);
    return found && found.customer_id === c.key ? found : undefined;
  });
  const previous = await deps.drifts.getMany(customers.map((c) => c.key));
  const agentKnown = (i: number) => !full && previous[i]?.funnel.agentRegistered === true;
  const toAsk = tenants.flatMap((t, i) => (t && !t.deleted_at && !agentKnown(i) ? [t.id] : []));
  const usages = await reads.usages(toAsk);
  return customers.map((customer, i) => {
    const tenant = tenants[i];
    const asked = tenant ? usages.get(tenant.id) : undefined;
    const agentRegistered = asked ? agentRegisteredIn(asked) : agentKnown(i);
    return { customer, tenant, seen: { users: tenant ? (usersOf.get(tenant.id) ?? []) : [], agentRegistered } };
  });
}

async function fixAll(deps: SweepDeps, scope: Scope, requester: Requester): Promise<FixOutcome[]> {
  const drifting = (await deps.drifts.list({ onlyDrifting: true })).filter((d) => findingOf(deps.partner, d));
  const inScope = scope.asked ? drifting.filter((d) => scope.customers.has(d.customerId)) : drifting;
  const fixDeps = fixDepsOf(deps);
  const out: FixOutcome[] = [];
  for (const drift of inScope.sort((a, b) => a.customerId.localeCompare(b.customerId)))
    out.push(await enqueueFix(fixDeps, drift.customerId, requester));
  return out;
}

/** Whether a finding is this partner's (one naming none: the default partner's). */
function findingOf(partner: SweepPartner | undefined, drift: CustomerDrift): boolean {
  if (!partner) return true;
  return drift.partner === undefined ? partner.isDefault : drift.partner === partner.name;
}

async function summarise(
  drifts: DriftStore,
  counts: Omit<SweepSummary, 'finishedAt' | 'drifting' | 'byKind'>,
): Promise<SweepSummary> {
  const all = await drifts.list();
  const byKind: Record<string, number> = {};
  for (const kind of DRIFT_KINDS) {
    const n = all.filter((d) => d.differences.some((x) => x.kind === kind)).length;
    if (n > 0) byKind[kind] = n;
  }
  return { ...counts, finishedAt: Date.now(), drifting: await drifts.driftingCount(), byKind };
}

async function eachLimited<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await run(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
