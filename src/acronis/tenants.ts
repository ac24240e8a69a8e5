import { z } from 'zod';
import { allPages, listSchema, toPage } from './paging.js';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

export const tenantKinds = ['root', 'partner', 'folder', 'customer', 'unit'] as const;
export type TenantKind = (typeof tenantKinds)[number];
export const pricingModes = ['trial', 'production', 'suspended'] as const;

// ---- requests: built to OAS `tenantPost` / `contactPut` (both additionalProperties:false) ----

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

/** The contact fields a tenant or user answers that we compare before a contact change. */
export const contactReadSchema = z
  .object({
    email: z.string().nullish(),
    firstname: z.string().nullish(),
    lastname: z.string().nullish(),
    phone: z.string().nullish(),
  })
  .partial();

/** OAS `tenantPost`. `customer_id` is the external id we look tenants up by (docs/acronis-api.md §3.1). */
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
  // docs/acronis-api.md §3.1 [C]: tutorials send it top level; the schema has it under settings.
  settings: z.strictObject({ enhanced_security: z.boolean().optional() }).optional(),
});
export type TenantPost = z.input<typeof tenantPostSchema>;

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
  contact: contactReadSchema.nullish(),
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

export interface ListChildTenantsOptions {
  limit?: number;
  withContacts?: boolean;
  /** Only children created or changed after this instant (`updated_since`, RFC 3339 UTC). */
  updatedSince?: Date;
}

/**
 * Every direct child of `parentId` (or those changed since `updatedSince`), page by page
 * (GET /tenants?parent_id=). Later pages send only `after` and `limit`: the cursor already
 * encodes the filter (docs/acronis-api.md §9.4).
 */
export function listChildTenants(
  api: AcronisTransport,
  parentId: string,
  opts: ListChildTenantsOptions = {},
): AsyncGenerator<Tenant> {
  return allPages(async (after) => {
    const searchParams = after
      ? { after, limit: opts.limit }
      : {
          parent_id: parentId,
          limit: opts.limit,
          with_contacts: opts.withContacts,
          updated_since: opts.updatedSince?.toISOString(),
        };
    return toPage(await api.json({ method: 'GET', path: '/tenants', searchParams }, tenantListSchema));
  });
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
 * matches themselves (docs/acronis-api.md §3.2).
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
