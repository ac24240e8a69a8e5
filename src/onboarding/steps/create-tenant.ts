import type { AcronisEndpoints } from '../../acronis/client.js';
import { AcronisApiError } from '../../acronis/errors.js';
import type { Tenant } from '../../acronis/tenants.js';
import { chainDataSchema } from '../chain.js';
import { adoptCommandLine } from '../adopt-command-line.js';
import { StepConflictError } from '../errors.js';
import { defineStep, type StepContext } from '../step.js';
import { contactOf } from './contact.js';

/** The platform's "Tenant name conflict" (docs/acronis-api.md §3.1, §9.1). */
const TENANT_NAME_CONFLICT = 1004;
/** How much earlier than our intent the API's clock may date the tenant an attempt created. */
const CLOCK_SKEW_MS = 60_000;
/** Search hits read after a name conflict; an exact match beyond them sends us to the children listing. */
const SEARCH_LIMIT = 100;

type Lookups = Pick<AcronisEndpoints, 'listChildTenants' | 'search' | 'getTenant'>;
interface Wanted {
  customerKey: string;
  partnerTenantId: string;
  name: string;
}

/**
 * create-tenant: a child of the partner with `customer_id` = our customer key. The intent is
 * recorded before the POST; only a re-run that finds it looks first, among the partner's
 * children changed since (an attempt whose answer was lost). Otherwise the POST goes straight
 * out, and the name conflict it meets when the tenant exists (a re-import, a replaced chain)
 * is the cue to find it: ours is adopted, anyone else's fails the customer naming the owner.
 */
export const createTenant = defineStep({
  name: 'create-tenant',
  input: chainDataSchema,
  async run({ customerKey, partnerTenantId, request }, ctx) {
    const wanted = { customerKey, partnerTenantId, name: request.name };
    const earlier = await ctx.intend('tenant');
    const since = earlier && new Date(earlier.getTime() - CLOCK_SKEW_MS);
    const made = since && (await childTenant(ctx.acronis, wanted, since));
    if (made) return adopt(ctx, made, true);
    try {
      const tenant = await ctx.acronis.createTenant({
        name: request.name,
        parent_id: partnerTenantId,
        kind: 'customer',
        customer_id: customerKey,
        ...(request.language ? { language: request.language } : {}),
        contact: contactOf(request),
      });
      await ctx.log(`created tenant ${tenant.id}`);
      return { tenantId: tenant.id, tenantCreated: true };
    } catch (err) {
      if (!(err instanceof AcronisApiError && (err.platformCode === TENANT_NAME_CONFLICT || err.status === 409))) {
        throw err;
      }
      return adopt(ctx, await nameHolder(ctx.acronis, wanted), false);
    }
  },
});

/** `ours`: an earlier attempt of this chain made it (its answer was lost); else it predates the chain. */
async function adopt(ctx: StepContext, tenant: Tenant, ours: boolean) {
  await ctx.log(`found tenant ${tenant.id} (customer_id ${tenant.customer_id}): not creating it again`);
  return { tenantId: tenant.id, tenantCreated: ours };
}

/**
 * The partner's child that is this customer, among those changed since `updatedSince` (all
 * children without it); a same-named child of another customer is a conflict.
 */
async function childTenant(acronis: Lookups, wanted: Wanted, updatedSince?: Date): Promise<Tenant | undefined> {
  let sameName: Tenant | undefined;
  const children = acronis.listChildTenants(wanted.partnerTenantId, updatedSince ? { updatedSince } : {});
  for await (const child of children) {
    if (child.deleted_at) continue;
    if (child.customer_id === wanted.customerKey) return child;
    if (child.name.toLowerCase() === wanted.name.toLowerCase()) sameName = child;
  }
  if (sameName) throw conflict(wanted, sameName);
  return undefined;
}

/**
 * After a name conflict: the tenant holding the name, by search (a substring match we filter
 * to the exact name, then read for its customer_id). When search shows none in reach — its
 * index may lag a fresh tenant, or cut the answer — the children listing settles it.
 */
async function nameHolder(acronis: Lookups, wanted: Wanted): Promise<Tenant> {
  const hits = await acronis.search({ tenantId: wanted.partnerTenantId, text: wanted.name, limit: SEARCH_LIMIT });
  // Names are unique across the hierarchy, so one exact match at most.
  const named = hits.find(
    (hit) => hit.obj_type === 'tenant' && !hit.deleted_at && hit.name?.toLowerCase() === wanted.name.toLowerCase(),
  );
  if (named) {
    const tenant = await acronis.getTenant(named.id);
    if (tenant.customer_id === wanted.customerKey && tenant.parent_id === wanted.partnerTenantId) return tenant;
    throw conflict(wanted, tenant);
  }
  const child = await childTenant(acronis, wanted);
  if (child) return child;
  throw new StepConflictError(
    wanted.customerKey,
    'name',
    wanted.name,
    'a tenant elsewhere in the partner hierarchy (names are unique across it)',
  );
}

/** A tenant made elsewhere (no customer_id) can be taken over as this customer: the reason says how. */
function conflict(wanted: Wanted, holder: Tenant): StepConflictError {
  if (holder.customer_id)
    return new StepConflictError(
      wanted.customerKey,
      'name',
      wanted.name,
      `tenant ${holder.id} of customer "${holder.customer_id}"`,
    );
  const owner = `tenant ${holder.id}, created outside acronis-onboard (it has no customer_id)`;
  const advice = `if it is this customer, adopt it instead of creating one (docs/adopt.md): ${adoptCommandLine(holder.id, wanted.customerKey)}; else change the name and resubmit the customer`;
  return new StepConflictError(wanted.customerKey, 'name', wanted.name, owner, advice, holder.id);
}
