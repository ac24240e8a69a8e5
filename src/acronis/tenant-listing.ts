import { z } from 'zod';
import { offeringItemSchema } from './offering-items.js';
import { listSchema, toPage, type Page } from './paging.js';
import { tenantSchema } from './tenants.js';
import type { AcronisTransport } from './transport.js';

/** OAS `tenant.mfa_status`: what reconcile compares with the profile's `mfa`. */
export const tenantMfaStatuses = ['disabled', 'forcibly_disabled', 'setup_required', 'enabled'] as const;

/**
 * A tenant as the listing shows it, with the two-factor status the tenant object carries and,
 * with `expand_offering_items`, its offering items: parsed by the schema the per-tenant read
 * (`getOfferingItems`) uses, so a sweep compares the same thing either way.
 */
export const listedTenantSchema = tenantSchema.extend({
  mfa_status: z.enum(tenantMfaStatuses).optional(),
  offering_items: z.array(offeringItemSchema).optional(),
});
export type ListedTenant = z.infer<typeof listedTenantSchema>;

const listedTenantPageSchema = listSchema(listedTenantSchema);

export type TenantsQuery =
  | {
      /** Every tenant under this one, ordered by level (`subtree_root_id`). */
      subtreeRootId: string;
      /** Only tenants whose own `updated_at` is after this instant (`updated_since`, RFC 3339 UTC). */
      updatedSince?: Date;
      /** Deleted tenants too (`allow_deleted`): how a deletion shows in an incremental read. */
      allowDeleted?: boolean;
      /** Every tenant's offering items inline (`expand_offering_items`), all editions. */
      expandOfferingItems?: boolean;
      limit?: number;
    }
  /** At most 100 tenants by id (`uuids`), unknown ones left out. */
  | { uuids: readonly string[] }
  | { after: string; limit?: number };

/**
 * One page of GET /tenants by `subtree_root_id` or `uuids` (OAS `FetchTenantsBatch`). The next page sends only
 * `after` and `limit`: the cursor holds every filter (docs/acronis-api.md §9.4). Paged by the
 * caller, so it can count and bound what a sweep reads.
 */
export async function listTenantsPage(
  api: AcronisTransport,
  query: TenantsQuery,
): Promise<Page<ListedTenant> & { timestamp: string | undefined }> {
  const searchParams =
    'uuids' in query
      ? { uuids: query.uuids.join(','), allow_deleted: true }
      : 'after' in query
        ? { after: query.after, limit: query.limit }
        : {
            subtree_root_id: query.subtreeRootId,
            updated_since: query.updatedSince?.toISOString(),
            allow_deleted: query.allowDeleted,
            expand_offering_items: query.expandOfferingItems,
            limit: query.limit,
          };
  const list = await api.json({ method: 'GET', path: '/tenants', searchParams }, listedTenantPageSchema);
  return { ...toPage(list), timestamp: list.timestamp ?? undefined };
}
