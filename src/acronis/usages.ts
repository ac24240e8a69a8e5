import { z } from 'zod';
import { quotaSchema } from './offering-items.js';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

export const usageSchema = z.object({
  application_id: z.string(),
  name: z.string(),
  edition: z.string().nullable(),
  usage_name: z.string(),
  type: z.string(),
  measurement_unit: z.string(),
  infra_id: z.string().optional(),
  tenant_uuid: z.string().optional(),
  range_start: acronisTimestamp,
  absolute_value: z.number().optional(),
  value: z.number(),
  offering_item: z.object({ status: z.number().int(), quota: quotaSchema.optional() }).optional(),
});
export type Usage = z.infer<typeof usageSchema>;

/**
 * GET /tenants/{id}/usages. Refreshed by the platform every 5–6 h: fine for a dashboard,
 * not for billing, which should use reports (docs/acronis-api.md §8).
 */
export async function getTenantUsages(
  api: AcronisTransport,
  tenantId: string,
  query: { usageNames?: string[]; editions?: string[] } = {},
): Promise<Usage[]> {
  const list = await api.json(
    {
      method: 'GET',
      path: `/tenants/${encodeURIComponent(tenantId)}/usages`,
      searchParams: { usage_names: query.usageNames?.join(','), editions: query.editions?.join(',') },
    },
    z.object({ items: z.array(usageSchema) }),
  );
  return list.items;
}

/** Most tenants per batched usages read: the OAS names no limit, so the `uuids` filters' 100 is kept. */
export const USAGES_BATCH_MAX = 100;

const batchUsageListSchema = z.object({
  items: z.array(z.object({ tenant: z.string(), usages: z.array(usageSchema) })),
});
export type TenantUsages = z.infer<typeof batchUsageListSchema>['items'][number];

/**
 * GET /tenants/usages?tenants=a,b,… (OAS `FetchTenantsUsagesBatch`): the usages of several
 * tenants in one call, each entry naming its tenant.
 */
export async function getTenantsUsages(
  api: AcronisTransport,
  tenantIds: readonly string[],
  query: { usageNames?: string[] } = {},
): Promise<TenantUsages[]> {
  if (tenantIds.length === 0 || tenantIds.length > USAGES_BATCH_MAX)
    throw new RangeError(`getTenantsUsages takes 1 to ${USAGES_BATCH_MAX} tenants, got ${tenantIds.length}`);
  const list = await api.json(
    {
      method: 'GET',
      path: '/tenants/usages',
      searchParams: { tenants: tenantIds.join(','), usage_names: query.usageNames?.join(',') },
    },
    batchUsageListSchema,
  );
  return list.items;
}
