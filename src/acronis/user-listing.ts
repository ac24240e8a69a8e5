import { z } from 'zod';
import { listSchema, toPage, type Page } from './paging.js';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';
import { accessPolicySchema, userSchema } from './users.js';

/** A user as GET /users shows it: with its `updated_at`, two-factor status and, when asked, its roles. */
export const listedUserSchema = userSchema.extend({
  updated_at: acronisTimestamp.nullish(),
  mfa_status: z.string().nullish(),
  access_policies: z.array(accessPolicySchema).optional(),
});
export type ListedUser = z.infer<typeof listedUserSchema>;

const listedUserPageSchema = listSchema(listedUserSchema);

export type UsersQuery =
  | {
      /** Users of every tenant under this one (`subtree_root_tenant_id`), or of one tenant (`tenant_id`). */
      subtreeRootTenantId?: string;
      tenantId?: string;
      /** Only users whose own `updated_at` is after this instant. */
      updatedSince?: Date;
      withAccessPolicies?: boolean;
      limit?: number;
    }
  | { after: string; limit?: number };

/**
 * One page of GET /users (OAS `FetchUsersBatch`); the next page sends only `after` and `limit`.
 * `with_access_policies` returns each user's roles in the same call.
 */
export async function listUsersPage(api: AcronisTransport, query: UsersQuery): Promise<Page<ListedUser>> {
  const searchParams =
    'after' in query
      ? { after: query.after, limit: query.limit }
      : {
          subtree_root_tenant_id: query.subtreeRootTenantId,
          tenant_id: query.tenantId,
          updated_since: query.updatedSince?.toISOString(),
          with_access_policies: query.withAccessPolicies,
          limit: query.limit,
        };
  return toPage(await api.json({ method: 'GET', path: '/users', searchParams }, listedUserPageSchema));
}
