import { z } from 'zod';
import { allPages, listSchema, toPage } from './paging.js';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

/** OAS `quota`: `value` null = unlimited; `overage` set makes it hard; `version` 0 or a ms timestamp (docs/acronis-api.md §4.2). */
export const quotaSchema = z.object({
  value: z.number().int().nullable(),
  overage: z.number().int().nullable(),
  version: z.number().int(),
});
export type Quota = z.infer<typeof quotaSchema>;

export const offeringItemSchema = z.object({
  application_id: z.string(),
  name: z.string(),
  edition: z.string().nullable(),
  usage_name: z.string(),
  tenant_id: z.string(),
  status: z.union([z.literal(0), z.literal(1)]),
  type: z.enum(['count', 'feature', 'infra']),
  measurement_unit: z.string(),
  infra_id: z.string().optional(),
  quota: quotaSchema.optional(),
  locked: z.boolean().optional(),
  updated_at: acronisTimestamp.nullish(),
});
export type OfferingItem = z.infer<typeof offeringItemSchema>;

/** One entry of the PUT body: only the keys the OAS `tenantOfferingItemsPut` item declares. */
export const offeringItemChangeSchema = z.strictObject({
  application_id: z.string(),
  name: z.string(),
  status: z.union([z.literal(0), z.literal(1)]).optional(),
  infra_id: z.string().optional(),
  quota: quotaSchema.optional(),
});
export type OfferingItemChange = z.infer<typeof offeringItemChangeSchema>;

const offeringItemListSchema = listSchema(offeringItemSchema);

export interface EditionFilter {
  /**
   * The API filters by `standard` when no edition is given, hiding every current item
   * (docs/acronis-api.md §4.3 quirk), so callers must say which: an edition name or `*` for all.
   */
  edition: string;
}

/** GET /tenants/{parent}/offering_items/available_for_child: what a new child of `kind` could get. */
export async function getAvailableForChild(
  api: AcronisTransport,
  parentTenantId: string,
  query: EditionFilter & { kind: 'customer' | 'partner' | 'folder' | 'unit' },
): Promise<OfferingItem[]> {
  const list = await api.json(
    {
      method: 'GET',
      path: `/tenants/${encodeURIComponent(parentTenantId)}/offering_items/available_for_child`,
      searchParams: { kind: query.kind, edition: query.edition },
    },
    offeringItemListSchema,
  );
  return list.items;
}

export interface OfferingItemsQuery extends EditionFilter {
  usageNames?: string[];
  status?: 0 | 1;
  type?: 'count' | 'feature' | 'infra';
}

/** GET /tenants/{id}/offering_items, every page. */
export async function getOfferingItems(
  api: AcronisTransport,
  tenantId: string,
  query: OfferingItemsQuery,
): Promise<OfferingItem[]> {
  const items: OfferingItem[] = [];
  const pages = allPages(async (after) =>
    toPage(
      await api.json(
        {
          method: 'GET',
          path: `/tenants/${encodeURIComponent(tenantId)}/offering_items`,
          searchParams: after
            ? { after }
            : {
                edition: query.edition,
                usage_names: query.usageNames?.join(','),
                status: query.status,
                type: query.type,
              },
        },
        offeringItemListSchema,
      ),
    ),
  );
  for await (const item of pages) items.push(item);
  return items;
}

/**
 * PUT /tenants/{id}/offering_items. The body key is `offering_items`, although GET answers
 * `items` (docs/acronis-api.md §4.3). Only the listed name+infra pairs change, so repeating the
 * same PUT is harmless.
 */
export async function putOfferingItems(
  api: AcronisTransport,
  tenantId: string,
  changes: OfferingItemChange[],
  opts: { checkUsage?: boolean } = {},
): Promise<OfferingItem[]> {
  const body = {
    offering_items: changes.map((c) => offeringItemChangeSchema.parse(c)),
    ...(opts.checkUsage !== undefined ? { check_usage: opts.checkUsage } : {}),
  };
  const list = await api.json(
    { method: 'PUT', path: `/tenants/${encodeURIComponent(tenantId)}/offering_items`, json: body },
    offeringItemListSchema,
  );
  return list.items;
}

/** A GET item turned into a PUT entry, keeping only what the PUT schema allows. */
export function toOfferingItemChange(
  item: OfferingItem,
  patch: Partial<Pick<OfferingItemChange, 'status' | 'quota'>> = {},
): OfferingItemChange {
  return {
    application_id: item.application_id,
    name: item.name,
    status: patch.status ?? item.status,
    ...(item.infra_id !== undefined ? { infra_id: item.infra_id } : {}),
    ...(patch.quota !== undefined ? { quota: patch.quota } : item.quota !== undefined ? { quota: item.quota } : {}),
  };
}
