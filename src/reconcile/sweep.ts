import { AcronisApiError } from '../acronis/errors.js';
import type { ListedTenant } from '../acronis/tenant-listing.js';
import type { Logger } from '../logger.js';
import type { Requester } from '../lifecycle/action.js';
import type { OnboardingQueue } from '../workers/queue.js';
import { CountedReads, type ReconcileApi } from './api-reads.js';
import { checkCustomer, type CheckDeps } from './check-customer.js';
import { DRIFT_KINDS, type CustomerDrift, type SweepSummary } from './drift.js';
import type { DriftStore } from './drift-store.js';
import { fixDepsOf } from './deps.js';
import { enqueueFix, type FixDeps, type FixOutcome } from './fix.js';
import { loadScope, type Scope, type ScopedCustomer } from './scope.js';

/**
 * A reconcile sweep (docs/reconcile.md): the partner's tenants listed (all of them, or those
 * changed since the last sweep), the users changed since then, and details read only for the
 * customers whose tenant or users changed; every customer's finding kept in the drift store.
 */
export interface SweepDeps extends CheckDeps {
  acronis: ReconcileApi;
  queue: OnboardingQueue;
  drifts: DriftStore;
  /** What `--fix` queues through (the lifecycle's checks and queue, resend-activation). */
  fix: Omit<FixDeps, 'profile' | 'drifts'>;
  logger?: Logger;
}

export interface SweepOptions {
  /** Read every customer's details, not only the changed ones'. */
  full?: boolean;
  fix?: boolean;
  /** Only these customers (always read in full); the cursor is left where it is. */
  customerIds?: readonly string[];
  requester?: Requester;
  /** How far before the last cursor an incremental sweep reads again; default CURSOR_OVERLAP_MS. */
  overlapMs?: number;
}

export interface SweepReport extends SweepSummary {
  /** This sweep's findings (customers it read), in customer order. */
  findings: CustomerDrift[];
  fixes: FixOutcome[];
  /** Customers asked for that neither a record, a batch nor a tenant knows. */
  unknown: string[];
  /** Customers the API refused to show (e.g. deleted between the listing and the read): read again next sweep. */
  unread: { customerId: string; reason: string }[];
}

/**
 * The cursor is the API's own clock (the listing's `timestamp`), but a change committed just
 * before it may carry an `updated_at` a little older than it and show only later: the minute
 * before the cursor is read again.
 */
export const CURSOR_OVERLAP_MS = 60_000;
const PARALLEL_READS = 8;
const REQUESTER: Requester = { kind: 'operator', label: 'reconcile --fix' };

export async function runSweep(deps: SweepDeps, opts: SweepOptions = {}): Promise<SweepReport> {
  const startedAt = Date.now();
  const reads = new CountedReads(deps.acronis);
  const scope = await loadScope(deps, opts.customerIds);
  const cursor = opts.customerIds ? null : await deps.drifts.cursor();
  const full = opts.full === true || cursor === null;
  const healing = [...scope.customers.values()].some((c) => c.heal);
  const since = full ? undefined : new Date(cursor - (opts.overlapMs ?? CURSOR_OVERLAP_MS));
  // A record to heal may belong to a tenant unchanged for long: only the whole listing finds it by customer_id.
  const listing = await reads.subtreeTenants(deps.partnerTenantId, healing ? undefined : since);
  const toRead = await changedCustomers(deps, reads, scope, listing.tenants, { full, since });
  const { findings, healed, unread, gone } = await readCustomers(deps, reads, toRead);
  findings.sort((a, b) => a.customerId.localeCompare(b.customerId));
  await deps.drifts.save(findings);
  for (const key of gone) await deps.drifts.forget(key);
  // A customer left unread keeps the cursor where it was: the next sweep reads it again.
  if (!opts.customerIds && unread.length === 0)
    await deps.drifts.setCursor(listing.timestamp ? Date.parse(listing.timestamp) : startedAt);
  const fixes = opts.fix ? await fixAll(deps, scope, opts.requester ?? REQUESTER) : [];
  const summary = await summarise(deps.drifts, {
    startedAt,
    mode: full ? 'full' : 'incremental',
    listingPages: reads.listingPages,
    calls: reads.calls,
    tenantsChanged: toRead.length,
    customersChecked: findings.length,
    healed,
  });
  await deps.drifts.saveSweep(summary);
  deps.logger?.info({ ...summary }, 'reconcile: sweep done');
  const known = new Set(findings.map((f) => f.customerId));
  const unknown = (scope.asked ?? []).filter((k) => !known.has(k) && !scope.customers.get(k)?.record);
  return { ...summary, findings, fixes, unknown, unread };
}

interface ToRead {
  customer: ScopedCustomer;
  tenant: ListedTenant | undefined;
}

/** Each customer to read, 8 at a time: its finding, or why the API would not show it. */
async function readCustomers(deps: SweepDeps, reads: CountedReads, toRead: readonly ToRead[]) {
  const findings: CustomerDrift[] = [];
  const unread: SweepReport['unread'] = [];
  const gone: string[] = [];
  let healed = 0;
  let healBatch: Promise<string> | undefined;
  const healBatchId = () =>
    (healBatch ??= deps.store
      .createBatch({ source: 'reconcile', label: 'records rebuilt by reconcile' })
      .then((b) => b.id));
  await eachLimited(toRead, PARALLEL_READS, async ({ customer, tenant }) => {
    try {
      const outcome = await checkCustomer(deps, reads, customer, tenant, healBatchId);
      if (outcome.drift) findings.push(outcome.drift);
      // Offboarded, or failed before its tenant existed: no finding, and none left from before.
      else gone.push(customer.key);
      if (outcome.healed) healed++;
    } catch (err) {
      // One customer the API will not show does not stop the others' sweep; the API gone does.
      if (!(err instanceof AcronisApiError) || err.retryable) throw err;
      unread.push({ customerId: customer.key, reason: err.message });
    }
  });
  return { findings, healed, unread, gone };
}

/**
 * The customers whose details this sweep reads: all of them on a full sweep or when asked by
 * name; else those whose tenant the listing shows changed, those whose users changed, those to
 * heal, and those with no finding yet. Tenants not in an incremental listing are fetched by id.
 */
async function changedCustomers(
  deps: SweepDeps,
  reads: CountedReads,
  scope: Scope,
  listed: readonly ListedTenant[],
  mode: { full: boolean; since: Date | undefined },
): Promise<ToRead[]> {
  const byCustomerId = new Map<string, ListedTenant>();
  const byId = new Map(listed.map((t) => [t.id, t]));
  for (const t of listed)
    if (t.customer_id && (!t.deleted_at || !byCustomerId.has(t.customer_id))) byCustomerId.set(t.customer_id, t);
  const sinceMs = mode.since?.getTime() ?? 0;
  const changed = new Set(listed.filter((t) => !t.updated_at || Date.parse(t.updated_at) > sinceMs).map((t) => t.id));
  const customers = [...scope.customers.values()];
  let chosen: ScopedCustomer[];
  if (mode.full || scope.asked) {
    chosen = customers;
  } else {
    const usersChanged = new Set(
      (await reads.changedUsers(deps.partnerTenantId, mode.since ?? new Date(0))).map((u) => u.tenant_id),
    );
    const previous = await deps.drifts.getMany(customers.map((c) => c.key));
    chosen = customers.filter((c, i) => {
      const tenantId = c.record?.facts.tenantId;
      return (
        c.heal ||
        changed.has(byCustomerId.get(c.key)?.id ?? '') ||
        (tenantId !== undefined && (changed.has(tenantId) || usersChanged.has(tenantId))) ||
        (previous[i] === null && c.record?.state === 'done')
      );
    });
  }
  const tenantOf = (c: ScopedCustomer) => {
    const tenantId = c.record?.facts.tenantId;
    const found = byCustomerId.get(c.key) ?? (tenantId ? byId.get(tenantId) : undefined);
    return found && found.customer_id === c.key ? found : undefined;
  };
  if (!mode.full && !scope.asked) {
    const missing = chosen
      .filter((c) => !tenantOf(c) && c.record?.facts.tenantId)
      .map((c) => c.record?.facts.tenantId as string);
    for (const t of await reads.tenantsById([...new Set(missing)])) byId.set(t.id, t);
  }
  return chosen.map((customer) => ({ customer, tenant: tenantOf(customer) }));
}

async function fixAll(deps: SweepDeps, scope: Scope, requester: Requester): Promise<FixOutcome[]> {
  const drifting = await deps.drifts.list({ onlyDrifting: true });
  const inScope = scope.asked ? drifting.filter((d) => scope.customers.has(d.customerId)) : drifting;
  const fixDeps = fixDepsOf(deps);
  const out: FixOutcome[] = [];
  for (const drift of inScope.sort((a, b) => a.customerId.localeCompare(b.customerId)))
    out.push(await enqueueFix(fixDeps, drift.customerId, requester));
  return out;
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
