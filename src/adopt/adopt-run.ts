import type { AcronisEndpoints } from '../acronis/client.js';
import type { Tenant } from '../acronis/tenants.js';
import type { Requester } from '../lifecycle/action.js';
import type { Profile } from '../onboarding/profile.js';
import type { ActionEnqueueDeps } from '../workers/enqueue-action.js';
import type { EnqueueDeps } from '../workers/enqueue.js';
import type { CsvRowsSummary } from '../workers/onboarding-store.js';
import { readAdoptCsv, type AdoptRow, type BadAdoptRow } from './adopt-csv.js';
import { planAdoptions, unmanagedRows, type AdoptPlan, type KeyFrom } from './adopt-plan.js';
import { queueAdoptions, type QueuedAdoptions } from './adopt-queue.js';

/**
 * One `adopt` (docs/adopt.md): the rows read (a CSV, one tenant, or every unmanaged child), the
 * partner's children listed once, the plan judged, then — unless a dry run — the adoptions queued
 * as one batch, and with `applyProfile` a lifecycle change for each.
 */
export type AdoptSource =
  { file: string } | { tenant: string; externalId: string } | { allUnmanaged: true; keyFrom: KeyFrom };

export interface AdoptOptions {
  force?: boolean;
  dryRun?: boolean;
  /** Apply a profile after the adoption: the row's, else `profile`, else the install's. */
  applyProfile?: boolean;
  profile?: Profile;
  requester: Requester;
}

export interface AdoptDeps {
  acronis: Pick<AcronisEndpoints, 'listChildTenants'>;
  enqueue: EnqueueDeps;
  actions: ActionEnqueueDeps;
  loadProfile(path: string): Promise<Profile>;
}

export interface AdoptReport {
  /** CSV rows refused before the plan (unreadable cells, a profile file that does not load). */
  bad: BadAdoptRow[];
  plan: AdoptPlan;
  /** The partner's live children listed. */
  children: number;
  queued?: QueuedAdoptions;
}

export async function adopt(deps: AdoptDeps, source: AdoptSource, opts: AdoptOptions): Promise<AdoptReport> {
  const children = await liveChildren(deps);
  const read = await rowsOf(source, children);
  const profiles = opts.applyProfile ? await rowProfiles(deps, read) : new Map<string, Profile>();
  const plan = await planAdoptions({ store: deps.enqueue.store }, children, read.rows, { force: opts.force === true });
  const report: AdoptReport = { bad: read.bad, plan, children: children.length };
  if (opts.dryRun || plan.adopt.length === 0) return report;
  const label = 'file' in source ? source.file : 'tenant' in source ? source.tenant : 'all unmanaged';
  const apply = opts.applyProfile
    ? {
        requester: opts.requester,
        profileOf: (a: { profile?: string }) =>
          (a.profile ? profiles.get(a.profile) : undefined) ?? opts.profile ?? deps.enqueue.profile,
      }
    : undefined;
  const csv = 'file' in source ? csvSummary(read, plan) : undefined;
  report.queued = await queueAdoptions(deps, plan, { label, ...(csv ? { csv } : {}) }, apply);
  return report;
}

/** A CSV's rows and the ones not adopted (bad or refused), as the batch page lists an import's bad rows. */
function csvSummary(read: { rows: AdoptRow[]; bad: BadAdoptRow[] }, plan: AdoptPlan): CsvRowsSummary {
  const refused = plan.refused.flatMap((r) =>
    r.line === undefined ? [] : [{ line: r.line, problems: [{ field: r.field, reason: r.reason }] }],
  );
  const badRows = [...read.bad, ...refused].sort((a, b) => a.line - b.line);
  return { rows: read.rows.length + read.bad.length, badRowCount: badRows.length, badRows };
}

/** Every live child of the partner, with contacts (an adopted customer's e-mail), in one listing. */
async function liveChildren(deps: AdoptDeps): Promise<Tenant[]> {
  const children: Tenant[] = [];
  const listing = deps.acronis.listChildTenants(deps.enqueue.partnerTenantId, { withContacts: true });
  for await (const child of listing) if (!child.deleted_at) children.push(child);
  return children;
}

async function rowsOf(
  source: AdoptSource,
  children: readonly Tenant[],
): Promise<{ rows: AdoptRow[]; bad: BadAdoptRow[] }> {
  if ('file' in source) return readAdoptCsv(source.file);
  if ('allUnmanaged' in source) return { rows: unmanagedRows(children, source.keyFrom), bad: [] };
  const byId = /^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/i.test(source.tenant);
  const row: AdoptRow = byId
    ? { tenantId: source.tenant.toLowerCase(), externalId: source.externalId }
    : { tenantName: source.tenant, externalId: source.externalId };
  return { rows: [row], bad: [] };
}

/** The profile files rows name, each loaded once; a row whose file does not load is a bad row. */
async function rowProfiles(
  deps: AdoptDeps,
  read: { rows: AdoptRow[]; bad: BadAdoptRow[] },
): Promise<Map<string, Profile>> {
  const loaded = new Map<string, Profile>();
  const failed = new Map<string, string>();
  for (const path of new Set(read.rows.flatMap((r) => (r.profile ? [r.profile] : [])))) {
    try {
      loaded.set(path, await deps.loadProfile(path));
    } catch (err) {
      failed.set(path, (err as Error).message);
    }
  }
  const keep = read.rows.filter((r) => !r.profile || !failed.has(r.profile));
  for (const r of read.rows)
    if (r.profile && failed.has(r.profile))
      read.bad.push({ line: r.line ?? 0, problems: [{ field: 'profile', reason: failed.get(r.profile) as string }] });
  read.rows.splice(0, read.rows.length, ...keep);
  return loaded;
}
