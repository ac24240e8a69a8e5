import { z } from 'zod';
import { badRequest, PlatformCode, SimError } from '../errors.js';
import { created, isUuid, ok, pathParam, Query } from '../http.js';
import { decodeCursor, encodeCursor, PageKeySchema, paginate, type PageKey } from '../paging.js';
import { presentItem, presentTenant, type Lod } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { withoutZone, zuluMillis } from '../timestamps.js';
import {
  DEFAULT_IDP_ID,
  type Caller,
  type TenantKind,
  type TenantRecord,
  type UserRecord,
  type World,
} from '../world.js';

/**
 * Which kinds may live under which (docs/acronis-api.md §3: "it is not possible to create a unit
 * tenant in a partner tenant"). Customers hold units (personal tenants included).
 */
const ALLOWED_CHILDREN: Record<TenantKind, TenantKind[]> = {
  root: ['partner', 'folder', 'customer'],
  partner: ['partner', 'folder', 'customer'],
  folder: ['partner', 'folder', 'customer'],
  customer: ['unit'],
  unit: ['unit'],
};

export function assertKindAllowed(parent: TenantRecord, kind: TenantKind): void {
  if (!ALLOWED_CHILDREN[parent.kind].includes(kind)) {
    throw badRequest(`It is not possible to create a ${kind} tenant in a ${parent.kind} tenant`);
  }
}

/** Sibling names are unique, case-insensitively: 409 with code 1004 (docs/acronis-api.md §3.1 [I] status). */
export function assertNameFree(world: World, parentId: string, name: string): void {
  const wanted = name.toLowerCase();
  const clash = world.children(parentId).find((t) => t.name.toLowerCase() === wanted);
  if (clash) {
    throw new SimError(
      409,
      PlatformCode.tenantNameConflict,
      'Tenant name conflict',
      `Tenant with name "${name}" already exists`,
      {
        context: { name, conflicting_tenant_id: clash.id },
      },
    );
  }
}

function assertName(name: string): void {
  if (name.trim() === '') throw badRequest("'name' must not be empty");
}

interface TenantPostBody {
  name: string;
  parent_id: string;
  kind: TenantKind;
  contact?: Record<string, unknown>;
  enabled?: boolean;
  customer_id?: string;
  internal_tag?: string | null;
  language?: string;
  default_idp_id?: string;
  update_lock?: { enabled: boolean };
  ancestral_access?: boolean;
  settings?: { enhanced_security?: boolean };
  enhanced_security?: boolean;
}

function createTenant({ world, caller, body }: HandlerInput) {
  const input = body as TenantPostBody;
  const parent = world.visibleTenant(caller, input.parent_id);
  if (!world.isEffectivelyEnabled(parent.id)) {
    throw new SimError(
      400,
      PlatformCode.parentDisabled,
      'Parent tenant is disabled',
      `Parent tenant "${parent.id}" is disabled`,
    );
  }
  assertName(input.name);
  assertKindAllowed(parent, input.kind);
  assertNameFree(world, parent.id, input.name);
  const lockEnabled = input.update_lock?.enabled ?? false;
  const tenant = world.addTenant(
    {
      name: input.name,
      kind: input.kind,
      parentId: parent.id,
      enabled: input.enabled ?? true,
      customerId: input.customer_id ?? null,
      internalTag: input.internal_tag ?? null,
      language: input.language ?? 'en',
      defaultIdpId: input.default_idp_id ?? DEFAULT_IDP_ID,
      updateLock: { enabled: lockEnabled, ownerId: lockEnabled ? caller.tenantId : null },
      ancestralAccess: input.ancestral_access ?? true,
      // §3.1 [C]: `settings.enhanced_security` per the OAS, top-level per the tutorials.
      enhancedSecurity: input.settings?.enhanced_security ?? input.enhanced_security ?? false,
      contactFields: input.contact ?? {},
    },
    world.now(),
  );
  return created(presentTenant(world, tenant));
}

function fetchTenant({ world, caller, request }: HandlerInput) {
  const query = new Query(request);
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'), {
    allowDeleted: query.bool('allow_deleted'),
  });
  return ok(presentTenant(world, tenant));
}

const TenantFilterSchema = z.object({
  mode: z.enum(['uuids', 'parent', 'subtree']),
  ids: z.array(z.string()),
  updatedSince: z.number().nullable(),
  lod: z.enum(['stamps', 'basic', 'full']),
  withContacts: z.boolean(),
  allowDeleted: z.boolean(),
  expandItems: z.boolean(),
  limit: z.number().int().positive(),
});
type TenantFilter = z.infer<typeof TenantFilterSchema>;
const TenantCursorSchema = z.object({ filter: TenantFilterSchema, key: z.array(z.number()) });

function filterFromQuery(query: Query): TenantFilter {
  const given = (['uuids', 'parent_id', 'subtree_root_id'] as const).filter((name) => query.has(name));
  if (given.length > 1) throw badRequest(`${given.join(', ')} are mutually exclusive`);
  if (given.length === 0) throw badRequest('One of uuids, parent_id or subtree_root_id is required');
  const updatedSince = query.string('updated_since');
  const since = updatedSince === undefined ? null : Date.parse(updatedSince);
  if (since !== null && Number.isNaN(since))
    throw badRequest(`'updated_since' must be an RFC 3339 timestamp, got "${updatedSince}"`);
  let mode: TenantFilter['mode'];
  let ids: string[];
  if (given[0] === 'uuids') {
    mode = 'uuids';
    ids = query.list('uuids') ?? [];
    if (ids.length > 100) throw badRequest("'uuids' holds at most 100 UUIDs");
  } else {
    mode = given[0] === 'parent_id' ? 'parent' : 'subtree';
    ids = [query.required(given[0] as string)];
  }
  for (const id of ids) if (!isUuid(id)) throw badRequest(`'${given[0]}' must hold UUIDs, got "${id}"`);
  return {
    mode,
    ids,
    updatedSince: since,
    lod: query.oneOf('lod', ['stamps', 'basic', 'full'] as const) ?? 'full',
    withContacts: query.bool('with_contacts'),
    allowDeleted: query.bool('allow_deleted'),
    expandItems: query.bool('expand_offering_items'),
    limit: query.int('limit', { min: 1 }) ?? 5000,
  };
}

function candidates(world: World, caller: Caller, filter: TenantFilter): { tenant: TenantRecord; key: number[] }[] {
  const visible = (t: TenantRecord) =>
    world.isInSubtree(t.id, caller.tenantId) && (filter.allowDeleted || t.deletedAt === null);
  if (filter.mode === 'uuids') {
    // Unknown or foreign ids are left out rather than failing the whole batch.
    return filter.ids.flatMap((id) => {
      const tenant = world.tenants.get(id);
      return tenant && visible(tenant) ? [{ tenant, key: [tenant.seq] }] : [];
    });
  }
  const rootId = filter.ids[0] as string;
  world.visibleTenant(caller, rootId, { allowDeleted: filter.allowDeleted });
  if (filter.mode === 'parent')
    return world.children(rootId, filter.allowDeleted).map((tenant) => ({ tenant, key: [tenant.seq] }));
  // "Sorting by tenant level is always assumed."
  return world.subtree(rootId, filter.allowDeleted).map(({ tenant, level }) => ({ tenant, key: [level, tenant.seq] }));
}

/** GET /tenants (docs/acronis-api.md §3.2, §9.4). */
function listTenants({ world, caller, request }: HandlerInput) {
  const query = new Query(request);
  const after = query.string('after');
  let filter: TenantFilter;
  let afterKey: number[] | null = null;
  if (after !== undefined && after !== '') {
    const cursor = decodeCursor(after, TenantCursorSchema);
    filter = { ...cursor.filter, limit: query.int('limit', { min: 1 }) ?? cursor.filter.limit };
    afterKey = cursor.key;
  } else {
    filter = filterFromQuery(query);
  }
  const matching = candidates(world, caller, filter).filter(
    ({ tenant }) => filter.updatedSince === null || tenant.updatedAt > filter.updatedSince,
  );
  const { page, next } = paginate(matching, (c) => c.key, filter.limit, afterKey);
  return ok({
    timestamp: zuluMillis(world.now()),
    items: page.map(({ tenant }) =>
      presentTenant(world, tenant, {
        lod: filter.lod as Lod,
        withContacts: filter.withContacts,
        batch: true,
        offeringItems: filter.expandItems ? world.effectiveItems(tenant).map((e) => presentItem(tenant.id, e)) : [],
      }),
    ),
    paging: { cursors: next ? { after: encodeCursor({ filter, key: next }) } : {} },
  });
}

const CHILD_ORDERS = ['as_is', 'name', 'status', 'usage'] as const;
const ChildrenCursorSchema = z.object({
  tenantId: z.string(),
  order: z.enum(CHILD_ORDERS),
  descending: z.boolean(),
  allowDeleted: z.boolean(),
  limit: z.number().int().positive(),
  key: PageKeySchema,
});
type ChildrenFilter = Omit<z.infer<typeof ChildrenCursorSchema>, 'key'>;

function childrenFilter(query: Query, tenantId: string): { filter: ChildrenFilter; afterKey: PageKey | null } {
  const after = query.string('after');
  const limit = query.int('limit', { min: 1 });
  if (after !== undefined && after !== '') {
    const { key, ...filter } = decodeCursor(after, ChildrenCursorSchema);
    if (filter.tenantId !== tenantId) throw badRequest("'after' belongs to another tenant's children");
    return { filter: { ...filter, limit: limit ?? filter.limit }, afterKey: key };
  }
  const order = query.string('order') ?? 'name';
  const descending = order.startsWith('-');
  const field = (descending ? order.slice(1) : order) as ChildrenFilter['order'];
  // `usage.<name>` orders by a usage, which is zero everywhere here: creation order.
  const known = CHILD_ORDERS.find((o) => field === o || (o === 'usage' && field.startsWith('usage.')));
  if (!known) throw badRequest(`'order' must be as_is, name, status or usage (optionally with -)`);
  const allowDeleted = query.bool('allow_deleted');
  return { filter: { tenantId, order: known, descending, allowDeleted, limit: limit ?? 5000 }, afterKey: null };
}

const childKey: Record<ChildrenFilter['order'], (t: TenantRecord) => PageKey> = {
  name: (t) => [t.name, t.seq],
  status: (t) => [t.enabled ? 0 : 1, t.seq],
  as_is: (t) => [t.seq],
  usage: (t) => [t.seq],
};

/** GET /tenants/{id}/children → ids only, cursor paged like GET /tenants (docs/acronis-api.md §3.2, §9.4). */
function listChildren({ world, caller, request }: HandlerInput) {
  const tenantId = pathParam(request, 'tenant_id');
  const { filter, afterKey } = childrenFilter(new Query(request), tenantId);
  const tenant = world.visibleTenant(caller, tenantId, { allowDeleted: filter.allowDeleted });
  const children = world.children(tenant.id, filter.allowDeleted);
  const { page, next } = paginate(children, childKey[filter.order], filter.limit, afterKey, filter.descending);
  return ok({
    items: page.map((t) => t.id),
    paging: { cursors: next ? { after: encodeCursor({ ...filter, key: next }) } : {} },
  });
}

interface SearchHit {
  obj_type: 'tenant' | 'user';
  id: string;
  parent_id: string;
  path: string[];
  [key: string]: unknown;
}

/** GET /search (docs/acronis-api.md §3.2): substring, case-insensitive, over the subtree. */
function search({ world, caller, request }: HandlerInput) {
  const query = new Query(request);
  const root = world.visibleTenant(caller, query.required('tenant'));
  const text = query.required('text').toLowerCase();
  const limit = query.int('limit', { min: 1 }) ?? 10;
  const allowDeleted = query.bool('allow_deleted');
  const includes = (value: unknown) => typeof value === 'string' && value.toLowerCase().includes(text);
  const pathOf = (tenantId: string) => {
    const chain = [world.tenants.get(tenantId), ...world.ancestors(tenantId)].filter(
      (t): t is TenantRecord => t !== undefined,
    );
    const stop = chain.findIndex((t) => t.id === root.id);
    return chain
      .slice(0, stop + 1)
      .reverse()
      .map((t) => t.name);
  };
  const usersByTenant = new Map<string, UserRecord[]>();
  for (const user of world.users.values()) {
    if (user.deletedAt !== null && !allowDeleted) continue;
    usersByTenant.set(user.tenantId, [...(usersByTenant.get(user.tenantId) ?? []), user]);
  }
  const hits: SearchHit[] = [];
  for (const { tenant } of world.subtree(root.id, allowDeleted)) {
    const contact = tenant.contact.fields;
    if ([tenant.name, tenant.customerId, contact.firstname, contact.lastname, contact.email].some(includes)) {
      hits.push({
        obj_type: 'tenant',
        id: tenant.id,
        parent_id: tenant.parentId ?? tenant.id,
        kind: tenant.kind,
        name: tenant.name,
        path: tenant.id === root.id || !tenant.parentId ? [] : pathOf(tenant.parentId),
        deleted_at: tenant.deletedAt === null ? null : withoutZone(tenant.deletedAt),
      });
    }
    for (const user of usersByTenant.get(tenant.id) ?? []) {
      const fields = user.contact.fields;
      // Logins are found only from 3 characters on (DOC/acct/users/creating-user).
      const loginHit = text.length >= 3 && includes(user.login);
      if (loginHit || [fields.email, fields.firstname, fields.lastname].some(includes)) {
        hits.push({
          obj_type: 'user',
          id: user.id,
          parent_id: user.tenantId,
          login: user.login,
          first_name: (fields.firstname as string | undefined) ?? null,
          last_name: (fields.lastname as string | undefined) ?? null,
          path: pathOf(user.tenantId),
          deleted_at: user.deletedAt === null ? null : withoutZone(user.deletedAt),
        });
      }
    }
    if (hits.length >= limit) break;
  }
  return ok({ items: hits.slice(0, limit) });
}

export function registerTenantRoutes(router: ApiRouter): void {
  router.add('POST /tenants', createTenant);
  router.add('GET /tenants', listTenants);
  router.add('GET /tenants/{tenant_id}', fetchTenant);
  router.add('GET /tenants/{tenant_id}/children', listChildren);
  router.add('GET /search', search);
}
