import { AcronisApiError } from '../../acronis/errors.js';
import type { Tenant } from '../../acronis/tenants.js';
import type { AcronisEndpoints } from '../../acronis/client.js';
import { chainDataSchema } from '../chain.js';
import { StepConflictError } from '../errors.js';
import { defineStep } from '../step.js';
import { contactOf } from './contact.js';

/** The platform's "Tenant name conflict" (docs/acronis-api.md §3.1, §9.1). */
const TENANT_NAME_CONFLICT = 1004;

/**
 * create-tenant: find the customer among the partner's children by `customer_id` (our
 * customer key), else by name; create it only when neither exists. A retry after the API
 * committed a POST but the answer was lost finds the tenant by its `customer_id`.
 */
export const createTenant = defineStep({
  name: 'create-tenant',
  input: chainDataSchema,
  async run({ customerKey, partnerTenantId, request }, ctx) {
    const found = await findCustomerTenant(ctx.acronis, partnerTenantId, customerKey, request.name);
    if (found) {
      await ctx.log(`found tenant ${found.id} (customer_id ${customerKey}): not creating it again`);
      return { tenantId: found.id, tenantCreated: false };
    }
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
      // Someone created the name between our look and our POST: look again to say who.
      if (err instanceof AcronisApiError && (err.platformCode === TENANT_NAME_CONFLICT || err.status === 409)) {
        const raced = await findCustomerTenant(ctx.acronis, partnerTenantId, customerKey, request.name);
        if (raced) return { tenantId: raced.id, tenantCreated: false };
        throw new StepConflictError(
          customerKey,
          'name',
          request.name,
          'a tenant elsewhere in the partner hierarchy (names are unique across it)',
        );
      }
      throw err;
    }
  },
});

/** The partner's child that is this customer; a same-named child owned by another customer is a conflict. */
async function findCustomerTenant(
  acronis: Pick<AcronisEndpoints, 'listChildTenants'>,
  partnerTenantId: string,
  customerKey: string,
  name: string,
): Promise<Tenant | undefined> {
  let sameName: Tenant | undefined;
  for await (const child of acronis.listChildTenants(partnerTenantId)) {
    if (child.deleted_at) continue;
    if (child.customer_id === customerKey) return child;
    if (child.name.toLowerCase() === name.toLowerCase()) sameName = child;
  }
  if (sameName) {
    const owner = sameName.customer_id
      ? `tenant ${sameName.id} of customer "${sameName.customer_id}"`
      : `tenant ${sameName.id}, created outside acronis-onboard (it has no customer_id)`;
    throw new StepConflictError(customerKey, 'name', name, owner);
  }
  return undefined;
}
