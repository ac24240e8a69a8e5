import type { Tenant } from '../../acronis/tenants.js';
import { isVersionMismatch, MAX_VERSION_ROUNDS, VersionRaceError } from '../../lifecycle/tenant-state.js';
import { chainDataSchema } from '../chain.js';
import { StepConflictError, StepInputError } from '../errors.js';
import { defineStep, type StepContext } from '../step.js';

const adoptChainSchema = chainDataSchema.extend({
  adopt: chainDataSchema.shape.adopt.unwrap(),
});
type AdoptChain = ReturnType<typeof adoptChainSchema.parse>;

/**
 * adopt-tenant (docs/adopt.md): the tenant made elsewhere gets the customer's key as its
 * `customer_id`, with a PUT carrying its `version`. The first run sends the PUT with the version
 * the plan read (one call); a stale version (409: the tenant changed since) reads it again. A run
 * that finds its intent recorded (an earlier attempt may have stamped it, its answer lost) reads
 * first, and a tenant stamped with our key already is left as it is: the stamp is made once.
 */
export const adoptTenant = defineStep({
  name: 'adopt-tenant',
  input: adoptChainSchema,
  async run(input, ctx) {
    const earlier = await ctx.intend('tenant');
    let tenant: Pick<Tenant, 'version' | 'customer_id'> | undefined =
      earlier || input.adopt.version === undefined ? undefined : { version: input.adopt.version, customer_id: null };
    for (let round = 0; round < MAX_VERSION_ROUNDS; round++) {
      tenant ??= await readChecked(input, ctx);
      if (tenant.customer_id === input.customerKey) return stamped(ctx, input, 'stamped already: nothing sent');
      if (tenant.customer_id && !input.adopt.force) throw stampedElsewhere(input, tenant.customer_id);
      try {
        await ctx.acronis.updateTenant(input.adopt.tenantId, {
          customer_id: input.customerKey,
          version: tenant.version,
        });
        return stamped(ctx, input, `customer_id set to "${input.customerKey}"`);
      } catch (err) {
        if (!isVersionMismatch(err)) throw err;
        tenant = undefined;
      }
    }
    throw new VersionRaceError(`tenant ${input.adopt.tenantId}`);
  },
});

/** The tenant, still a live child of the partner (someone may have moved or deleted it since the plan). */
async function readChecked(input: AdoptChain, ctx: StepContext): Promise<Tenant> {
  const tenant = await ctx.acronis.getTenant(input.adopt.tenantId);
  if (tenant.deleted_at) throw new StepInputError(input.customerKey, 'tenant', `tenant ${tenant.id} is deleted`);
  if (tenant.parent_id !== input.partnerTenantId)
    throw new StepInputError(input.customerKey, 'tenant', `tenant ${tenant.id} is not a child of the partner tenant`);
  return tenant;
}

async function stamped(ctx: StepContext, input: AdoptChain, note: string) {
  await ctx.log(`tenant ${input.adopt.tenantId}: ${note}`);
  return { tenantId: input.adopt.tenantId, tenantCreated: false, adopted: true };
}

function stampedElsewhere(input: AdoptChain, customerId: string): StepConflictError {
  return new StepConflictError(
    input.customerKey,
    'tenant',
    input.adopt.tenantId,
    `customer "${customerId}" (its customer_id was set by another install or integration)`,
    'adopt it with --force to take it over, or leave it to its owner',
  );
}
