import type { Tenant } from '../acronis/tenants.js';
import { customerKeyOf, customerRequestSchema } from '../onboarding/customer-request.js';
import type { CustomerRecord, OnboardingStore } from '../workers/onboarding-store.js';
import type { AdoptRow } from './adopt-csv.js';

/**
 * Which tenants an `adopt` would take over, which it has already, and which it refuses, each
 * refusal naming its row (or tenant), the field and the reason (docs/adopt.md "Refused"). Judged
 * against one listing of the partner's children and one read of the store; writes nothing, so
 * `adopt --dry-run` is this plan printed.
 */
export interface PlannedAdoption {
  line?: number;
  tenant: Tenant;
  key: string;
  /** The tenant's customer_id is someone else's and `--force` replaces it. */
  force: boolean;
  profile?: string;
}

export interface AdoptedAlready {
  line?: number;
  tenant: Tenant;
  key: string;
  reason: string;
}

export interface AdoptRefusal {
  line?: number;
  /** The tenant as the row names it. */
  tenant: string;
  field: string;
  reason: string;
}

export interface AdoptPlan {
  adopt: PlannedAdoption[];
  already: AdoptedAlready[];
  refused: AdoptRefusal[];
}

/** How `--all-unmanaged` makes each tenant's external id (docs/adopt.md "Every unmanaged tenant"). */
export type KeyFrom = 'name' | 'tenant-id';

/** The partner's live customer tenants without a customer_id, as rows with a derived external id. */
export function unmanagedRows(children: readonly Tenant[], keyFrom: KeyFrom): AdoptRow[] {
  return children
    .filter((t) => t.kind === 'customer' && !t.customer_id)
    .map((t) => ({ tenantId: t.id, externalId: derivedKey(t, keyFrom) }));
}

/**
 * `name`: the key an import gives a customer without an external id (its name normalised), so an
 * import of the same name later finds the customer adopted; `tenant-id`: `acronis-<tenant id>`.
 */
export function derivedKey(tenant: Pick<Tenant, 'id' | 'name'>, keyFrom: KeyFrom): string {
  return keyFrom === 'name' ? customerKeyOf({ name: tenant.name }) : `acronis-${tenant.id}`;
}

/**
 * The customer an adoption records: the tenant's name, its contact's e-mail, the key. A tenant
 * without a usable contact e-mail gets `no-email@adopted.invalid` (`.invalid` is reserved: RFC 2606),
 * which nothing sends to: an adoption creates no user and sends no e-mail.
 */
export const NO_EMAIL = 'no-email@adopted.invalid';
export function adoptionRequest(tenant: Pick<Tenant, 'name' | 'contact'>, key: string) {
  const email = tenant.contact?.email && /^\S+@\S+\.\S+$/.test(tenant.contact.email) ? tenant.contact.email : NO_EMAIL;
  const parsed = customerRequestSchema.safeParse({ name: tenant.name, email, external_id: key });
  if (parsed.success || email === NO_EMAIL) return parsed;
  return customerRequestSchema.safeParse({ name: tenant.name, email: NO_EMAIL, external_id: key });
}

type Resolved = { row: AdoptRow; tenant: Tenant } | { refusal: AdoptRefusal };

export async function planAdoptions(
  deps: { store: Pick<OnboardingStore, 'getCustomers'> },
  children: readonly Tenant[],
  rows: readonly AdoptRow[],
  opts: { force: boolean },
): Promise<AdoptPlan> {
  const plan: AdoptPlan = { adopt: [], already: [], refused: [] };
  const resolved = rows.map((row) => resolveTenant(children, row));
  const found = resolved.flatMap((r) => ('refusal' in r ? [] : [r]));
  for (const r of resolved) if ('refusal' in r) plan.refused.push(r.refusal);
  const repeats = repeated(found);
  const records = await deps.store.getCustomers(found.map((f) => f.row.externalId));
  const stampedWith = new Map(children.filter((c) => c.customer_id).map((c) => [c.customer_id as string, c]));
  found.forEach(({ row, tenant }, i) => {
    const refuse = (field: string, reason: string) => plan.refused.push(refusal(row, field, reason));
    const key = row.externalId;
    const repeat = repeats.get(found[i] as (typeof found)[number]);
    if (repeat) return refuse(repeat.field, repeat.reason);
    const holder = stampedWith.get(key);
    if (holder && holder.id !== tenant.id)
      return refuse('external_id', `"${key}" is the customer_id of tenant ${holder.id} ("${holder.name}") already`);
    if (tenant.customer_id && tenant.customer_id !== key && !opts.force)
      return refuse(
        'tenant',
        `tenant ${tenant.id} ("${tenant.name}") is stamped with customer_id "${tenant.customer_id}" already (another install or integration): adopt --force takes it over`,
      );
    const request = adoptionRequest(tenant, key);
    if (!request.success)
      return refuse(
        'tenant',
        `its name cannot be carried as a customer's: ${request.error.issues[0]?.message ?? 'unusable'}`,
      );
    const verdict = recordVerdict(records[i], tenant, key);
    if (verdict?.refuse) return refuse('external_id', verdict.refuse);
    if (verdict?.already) return void plan.already.push({ ...lineOf(row), tenant, key, reason: verdict.already });
    plan.adopt.push({
      ...lineOf(row),
      tenant,
      key,
      force: Boolean(tenant.customer_id && tenant.customer_id !== key),
      ...(row.profile ? { profile: row.profile } : {}),
    });
  });
  plan.refused.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return plan;
}

/** The row's tenant among the partner's live children: by id, or by a name that matches exactly one. */
function resolveTenant(children: readonly Tenant[], row: AdoptRow): Resolved {
  const named = row.tenantId ?? row.tenantName ?? '';
  const refuse = (field: string, reason: string): Resolved => ({
    refusal: { ...lineOf(row), tenant: named, field, reason },
  });
  let tenant: Tenant | undefined;
  if (row.tenantId) {
    tenant = children.find((c) => c.id === row.tenantId);
    if (!tenant)
      return refuse(
        'tenant_id',
        `no tenant ${row.tenantId} among the partner's children (unknown, deleted, or deeper in the hierarchy)`,
      );
  } else {
    // Matched as an import keys a name (case, accents and runs of spaces aside): operators type names loosely.
    const wanted = customerKeyOf({ name: named });
    const matches = children.filter((c) => customerKeyOf({ name: c.name }) === wanted);
    if (matches.length === 0) return refuse('tenant', `no tenant of the partner is named "${named}"`);
    if (matches.length > 1)
      return refuse(
        'tenant',
        `"${named}" names ${matches.length} tenants (${matches.map((m) => m.id).join(', ')}): name the one to adopt by tenant_id`,
      );
    tenant = matches[0] as Tenant;
  }
  if (tenant.kind !== 'customer')
    return refuse('tenant', `tenant ${tenant.id} ("${tenant.name}") is a ${tenant.kind}, not a customer`);
  return { row, tenant };
}

/** Rows that adopt one tenant twice, or give one external id twice: each is refused, naming the others. */
function repeated(found: readonly { row: AdoptRow; tenant: Tenant }[]) {
  const out = new Map<(typeof found)[number], { field: string; reason: string }>();
  const group = (
    by: (f: (typeof found)[number]) => string,
    describe: (id: string, others: string) => { field: string; reason: string },
  ) => {
    const groups = new Map<string, (typeof found)[number][]>();
    for (const f of found) groups.set(by(f), [...(groups.get(by(f)) ?? []), f]);
    for (const [id, members] of groups) {
      if (members.length < 2) continue;
      for (const m of members) {
        const others = members
          .filter((o) => o !== m)
          .map(where)
          .join(', ');
        if (!out.has(m)) out.set(m, describe(id, others));
      }
    }
  };
  group(
    (f) => f.tenant.id,
    (id, others) => ({ field: 'tenant', reason: `tenant ${id} is adopted by ${others} too: nothing done for either` }),
  );
  group(
    (f) => f.row.externalId,
    (id, others) => ({ field: 'external_id', reason: `"${id}" is given to ${others} too: nothing done for either` }),
  );
  return out;
}

const where = (f: { row: AdoptRow; tenant: Tenant }) =>
  f.row.line !== undefined ? `line ${f.row.line}` : `tenant ${f.tenant.id} ("${f.tenant.name}")`;

/** What this install already knows under the key: another tenant (refused), this one (nothing to do), a failure (replaced). */
function recordVerdict(
  record: CustomerRecord | undefined,
  tenant: Tenant,
  key: string,
): { refuse?: string; already?: string } | undefined {
  if (!record) return undefined;
  const recorded = record.facts.tenantId;
  if (recorded && recorded !== tenant.id)
    return { refuse: `"${key}" is customer "${record.name}" of this install already (tenant ${recorded})` };
  if (record.state === 'done') return { already: 'adopted or onboarded already' };
  if (record.state === 'queued' || record.state === 'running')
    return { already: `queued or running already (batch ${record.batchId})` };
  return undefined;
}

function refusal(row: AdoptRow, field: string, reason: string): AdoptRefusal {
  return { ...lineOf(row), tenant: row.tenantId ?? row.tenantName ?? '', field, reason };
}

const lineOf = (row: AdoptRow) => (row.line !== undefined ? { line: row.line } : {});
