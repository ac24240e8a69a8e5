import { z } from 'zod';
import { offeringItemSchema, type OfferingItem } from './offering-items.js';
import { contactInputSchema, tenantSchema, type Tenant } from './tenants.js';
import type { AcronisTransport } from './transport.js';

/**
 * A customer after day one (docs/acronis-api.md §3.3, §3.4, §4.5, §12): the tenant's PUT with
 * its `version`, its DELETE, the edition switch and the tenant's two-factor setting.
 */

/** OAS `tenantPut` (additionalProperties:false), the part we change: a partial update, `version` required. */
export const tenantPutSchema = z.strictObject({
  version: z.number().int(),
  enabled: z.boolean().optional(),
  contact: contactInputSchema.optional(),
  /** The external id (OAS: writable, nullable): `adopt` stamps it on a tenant made elsewhere. */
  customer_id: z.string().nullable().optional(),
});
export type TenantPut = z.input<typeof tenantPutSchema>;

const tenantPath = (tenantId: string) => `/tenants/${encodeURIComponent(tenantId)}`;

/** PUT /tenants/{id} → the tenant with its version + 1; 409 (code 1001) when `version` is stale. */
export async function updateTenant(api: AcronisTransport, tenantId: string, body: TenantPut): Promise<Tenant> {
  return api.json({ method: 'PUT', path: tenantPath(tenantId), json: tenantPutSchema.parse(body) }, tenantSchema);
}

/**
 * DELETE /tenants/{id}?version= → 204. Irreversible: sub-tenants, users and backups go with it.
 * Refused (400, code 1006) while the tenant is enabled.
 */
export async function deleteTenant(api: AcronisTransport, tenantId: string, version: number): Promise<void> {
  await api.empty({ method: 'DELETE', path: tenantPath(tenantId), searchParams: { version } });
}

/** OAS `editionSwitchPut`. */
const editionSwitchSchema = z.strictObject({ application_id: z.string(), target_edition: z.string() });

/** PUT /tenants/{id}/edition → the tenant's offering items after the switch. */
export async function switchEdition(
  api: AcronisTransport,
  tenantId: string,
  input: z.input<typeof editionSwitchSchema>,
): Promise<OfferingItem[]> {
  const list = await api.json(
    { method: 'PUT', path: `${tenantPath(tenantId)}/edition`, json: editionSwitchSchema.parse(input) },
    z.object({ items: z.array(offeringItemSchema) }),
  );
  return list.items;
}

/** OAS `mfaTenantStatus`, the part we read. */
const mfaStatusSchema = z.object({ mfa_status: z.string(), update_allowed: z.boolean().optional() });
export type TenantMfaStatus = z.infer<typeof mfaStatusSchema>;

/** GET /tenants/{id}/mfa/status. */
export async function getTenantMfa(api: AcronisTransport, tenantId: string): Promise<TenantMfaStatus> {
  return api.json({ method: 'GET', path: `${tenantPath(tenantId)}/mfa/status` }, mfaStatusSchema);
}

/** PUT /tenants/{id}/mfa/status {"enabled"} (OAS `mfaTenantStatusPut`): no version, setting it twice is harmless. */
export async function setTenantMfa(
  api: AcronisTransport,
  tenantId: string,
  enabled: boolean,
): Promise<TenantMfaStatus> {
  return api.json(
    {
      method: 'PUT',
      path: `${tenantPath(tenantId)}/mfa/status`,
      json: z.strictObject({ enabled: z.boolean() }).parse({ enabled }),
    },
    mfaStatusSchema,
  );
}
