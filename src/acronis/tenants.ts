import { z } from 'zod';
import { allPages, listSchema, toPage, type Page } from './paging.js';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

export const tenantKinds = ['root', 'partner', 'folder', 'customer', 'unit'] as const;
export type TenantKind = (typeof tenantKinds)[number];
export const pricingModes = ['trial', 'production', 'suspended'] as const;

// ---- requests: built to OAS `tenantPost` / `tenantPut` / `contactPut` (all additionalProperties:false) ----

const nullableText = z.string().nullable().optional();
/** OAS `contactPut`. */
export const contactInputSchema = z.strictObject({
  email: z
    .string()
    .regex(/^$|\S+@\S+/, 'must be an e-mail address')
    .optional(),
  firstname: nullableText,
  lastname: nullableText,
  phone: nullableText,
  country: nullableText,
  state: nullableText,
  city: nullableText,
  zipcode: nullableText,
  address1: nullableText,
  address2: nullableText,
  title: nullableText,
  website: nullableText,
  industry: nullableText,
  organization_size: nullableText,
  language: nullableText,
  fax: nullableText,
  types: z.array(z.string()).optional(),
});
export type ContactInput = z.infer<typeof contactInputSchema>;

/** OAS `tenantPost`. `customer_id` is the external id we look tenants up by (ACRONIS-API.md §3.1). */
export const tenantPostSchema = z.strictObject({
  name: z.string().min(1),
  parent_id: z.string(),
  kind: z.enum(tenantKinds),
  contact: contactInputSchema.optional(),
  enabled: z.boolean().optional(),
  customer_id: z.string().optional(),
  internal_tag: z.string().max(256).nullable().optional(),
  language: z.string().optional(),
  ancestral_access: z.boolean().optional(),
  // ACRONIS-API.md §3.1 [C]: tutorials send it top level; the schema has it under settings.
  settings: z.strictObject({ enhanced_security: z.boolean().optional() }).optional(),
});
export type TenantPost = z.input<typeof tenantPostSchema>;

/** OAS `tenantPut`: a partial update guarded by `version` (ACRONIS-API.md §3.3). */
export const tenantPutSchema = z.strictObject({
  version: z.number().int(),
  name: z.string().min(1).optional(),
  contact: contactInputSchema.optional(),
  enabled: z.boolean().optional(),
  customer_id: z.string().nullable().optional(),
  internal_tag: z.string().max(256).nullable().optional(),
  language: z.string().optional(),
  ancestral_access: z.boolean().optional(),
  update_lock: z.strictObject({ enabled: z.boolean() }).optional(),
});
export type TenantPut = z.input<typeof tenantPutSchema>;

// ---- responses: tolerant of fields we do not use ----

export const tenantSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  name: z.string(),
  kind: z.enum(tenantKinds),
  parent_id: z.string().nullable(),
  enabled: z.boolean(),
  customer_id: z.string().nullish(),
  internal_tag: z.string().nullish(),
  language: z.string().nullish(),
  pricing_mode: z.enum(pricingModes).optional(),
  has_children: z.boolean().optional(),
  owner_id: z.string().nullish(),
  contact: z
    .object({ email: z.string().nullish(), firstname: z.string().nullish(), lastname: z.string().nullish() })
    .partial()
    .nullish(),
  created_at: acronisTimestamp.nullish(),
  updated_at: acronisTimestamp.nullish(),
  deleted_at: acronisTimestamp.nullish(),
});
export type Tenant = z.infer<typeof tenantSchema>;

const tenantListSchema = listSchema(tenantSchema);

/** POST /tenants → 201 tenant. Not retried here: on an ambiguous failure the caller looks the tenant up first. */
export async function createTenant(api: AcronisTransport, body: TenantPost): Promise<Tenant> {
  return api.json({ method: 'POST', path: '/tenants', json: tenantPostSchema.parse(body) }, tenantSchema);
}

/** GET /tenants/{id}; 404 when missing, 403 outside our subtree. */
export async function getTenant(
  api: AcronisTransport,
  tenantId: string,
  opts: { allowDeleted?: boolean } = {},
): Promise<Tenant> {
  return api.json(
    {
      method: 'GET',
      path: `/tenants/${encodeURIComponent(tenantId)}`,
      searchParams: { allow_deleted: opts.allowDeleted },
    },
    tenantSchema,
  );
}

export type TenantFilter = { parentId: string } | { subtreeRootId: string } | { uuids: string[] };

export interface ListTenantsOptions {
  limit?: number;
  after?: string;
  withContacts?: boolean;
  allowDeleted?: boolean;
}

/**
 * GET /tenants, one page. The three filters are mutually exclusive; on later pages the
 * cursor already encodes the filter, so only `after` and `limit` are sent (§9.4).
 */
export async function listTenants(
  api: AcronisTransport,
  filter: TenantFilter,
  opts: ListTenantsOptions = {},
): Promise<Page<Tenant>> {
  if ('uuids' in filter && filter.uuids.length > 100)
    throw new RangeError('GET /tenants takes at most 100 uuids at once');
  const searchParams = opts.after
    ? { after: opts.after, limit: opts.limit }
    : {
        ...('parentId' in filter ? { parent_id: filter.parentId } : {}),
        ...('subtreeRootId' in filter ? { subtree_root_id: filter.subtreeRootId } : {}),
        ...('uuids' in filter ? { uuids: filter.uuids.join(',') } : {}),
        limit: opts.limit,
        with_contacts: opts.withContacts,
        allow_deleted: opts.allowDeleted,
      };
  return toPage(await api.json({ method: 'GET', path: '/tenants', searchParams }, tenantListSchema));
}

/** Every direct child of `parentId`, across all pages. */
export function listChildTenants(
  api: AcronisTransport,
  parentId: string,
  opts: Omit<ListTenantsOptions, 'after'> = {},
): AsyncGenerator<Tenant> {
  return allPages((after) => listTenants(api, { parentId }, { ...opts, after }));
}

/** PUT /tenants/{id}; a stale `version` answers 409 (code 1001). */
export async function updateTenant(api: AcronisTransport, tenantId: string, body: TenantPut): Promise<Tenant> {
  return api.json(
    { method: 'PUT', path: `/tenants/${encodeURIComponent(tenantId)}`, json: tenantPutSchema.parse(body) },
    tenantSchema,
  );
}

/** DELETE /tenants/{id}?version=: the tenant must be disabled first (400, code 1006). */
export async function deleteTenant(api: AcronisTransport, tenantId: string, version: number): Promise<void> {
  await api.empty({ method: 'DELETE', path: `/tenants/${encodeURIComponent(tenantId)}`, searchParams: { version } });
}

export const searchResultSchema = z.object({
  obj_type: z.enum(['tenant', 'user']),
  id: z.string(),
  parent_id: z.string().nullish(),
  kind: z.enum(tenantKinds).optional(),
  name: z.string().optional(),
  login: z.string().optional(),
  first_name: z.string().nullish(),
  last_name: z.string().nullish(),
  path: z.array(z.string()).optional(),
  deleted_at: acronisTimestamp.nullish(),
});
export type SearchResult = z.infer<typeof searchResultSchema>;

/**
 * GET /search: case-insensitive substring match over the subtree of `tenantId`
 * (tenant names, customer ids, contact names; user logins, e-mails). Callers filter exact
 * matches themselves (ACRONIS-API.md §3.2).
 */
export async function search(
  api: AcronisTransport,
  input: { tenantId: string; text: string; limit?: number },
): Promise<SearchResult[]> {
  const result = await api.json(
    {
      method: 'GET',
      path: '/search',
      searchParams: { tenant: input.tenantId, text: input.text, limit: input.limit ?? 10 },
    },
    z.object({ items: z.array(searchResultSchema) }),
  );
  return result.items;
}
