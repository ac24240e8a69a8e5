import { z } from 'zod';
import { badRequest } from '../errors.js';
import { isUuid, ok, Query } from '../http.js';
import { decodeCursor, encodeCursor, paginate } from '../paging.js';
import { presentPolicy, presentUser } from '../present.js';
import type { UserRecord } from '../records.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { zuluMillis } from '../timestamps.js';
import type { Caller, World } from '../world.js';

/**
 * GET /users (OAS `FetchUsersBatch`): users by `uuids`, `tenant_id` or `subtree_root_tenant_id`
 * (mutually exclusive), `updated_since` on the user's own `updated_at`, cursor paged like
 * GET /tenants (default `limit` 2000), `with_access_policies` adding each user's roles.
 */
const UserFilterSchema = z.object({
  mode: z.enum(['uuids', 'tenant', 'subtree']),
  ids: z.array(z.string()),
  updatedSince: z.number().nullable(),
  withPolicies: z.boolean(),
  allowDeleted: z.boolean(),
  limit: z.number().int().positive(),
});
type UserFilter = z.infer<typeof UserFilterSchema>;
const UserCursorSchema = z.object({ filter: UserFilterSchema, key: z.array(z.union([z.number(), z.string()])) });

const MODES = { uuids: 'uuids', tenant_id: 'tenant', subtree_root_tenant_id: 'subtree' } as const;

function filterFromQuery(query: Query): UserFilter {
  const given = (Object.keys(MODES) as (keyof typeof MODES)[]).filter((name) => query.has(name));
  if (given.length > 1) throw badRequest(`${given.join(', ')} are mutually exclusive`);
  const [param] = given;
  if (param === undefined) throw badRequest('One of uuids, tenant_id or subtree_root_tenant_id is required');
  const ids = param === 'uuids' ? (query.list('uuids') ?? []) : [query.required(param)];
  for (const id of ids) if (!isUuid(id)) throw badRequest(`'${param}' must hold UUIDs, got "${id}"`);
  const updatedSince = query.string('updated_since');
  const since = updatedSince === undefined ? null : Date.parse(updatedSince);
  if (since !== null && Number.isNaN(since))
    throw badRequest(`'updated_since' must be an RFC 3339 timestamp, got "${updatedSince}"`);
  return {
    mode: MODES[param],
    ids,
    updatedSince: since,
    withPolicies: query.bool('with_access_policies'),
    allowDeleted: query.bool('allow_deleted'),
    limit: query.int('limit', { min: 1 }) ?? 2000,
  };
}

function candidates(world: World, caller: Caller, filter: UserFilter): UserRecord[] {
  const tenantIds = new Set<string>();
  if (filter.mode === 'subtree') {
    const root = world.visibleTenant(caller, filter.ids[0] as string);
    for (const { tenant } of world.subtree(root.id, filter.allowDeleted)) tenantIds.add(tenant.id);
  } else if (filter.mode === 'tenant') {
    tenantIds.add(world.visibleTenant(caller, filter.ids[0] as string).id);
  }
  const wanted = new Set(filter.ids);
  return [...world.users.values()].filter(
    (u) =>
      (filter.mode === 'uuids'
        ? wanted.has(u.id) && world.isInSubtree(u.tenantId, caller.tenantId)
        : tenantIds.has(u.tenantId)) &&
      (filter.allowDeleted || u.deletedAt === null) &&
      (filter.updatedSince === null || u.updatedAt > filter.updatedSince),
  );
}

function listUsers({ world, caller, request }: HandlerInput) {
  const query = new Query(request);
  const after = query.string('after');
  let filter: UserFilter;
  let afterKey: (number | string)[] | null = null;
  if (after !== undefined && after !== '') {
    const cursor = decodeCursor(after, UserCursorSchema);
    filter = { ...cursor.filter, limit: query.int('limit', { min: 1 }) ?? cursor.filter.limit };
    afterKey = cursor.key;
  } else {
    filter = filterFromQuery(query);
  }
  const { page, next } = paginate(
    candidates(world, caller, filter),
    (u) => [u.createdAt, u.id],
    filter.limit,
    afterKey,
  );
  return ok({
    timestamp: zuluMillis(world.now()),
    items: page.map((user) => ({
      ...presentUser(user),
      access_policies: filter.withPolicies ? (world.accessPolicies.get(user.id) ?? []).map(presentPolicy) : [],
      origin_id: null,
      origin_external_id: null,
      disable_after: null,
    })),
    paging: { cursors: next ? { after: encodeCursor({ filter, key: next }) } : {} },
  });
}

export function registerUserListingRoutes(router: ApiRouter): void {
  router.add('GET /users', listUsers);
}
