import { z } from 'zod';
import { contactInputSchema, contactReadSchema } from './tenants.js';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

/** OAS `userPost` (additionalProperties:false; `contact.email` required inside contact). */
export const userPostSchema = z.strictObject({
  tenant_id: z.string(),
  login: z.string().min(1),
  contact: z.strictObject({
    email: z.string().regex(/^$|\S+@\S+/, 'must be an e-mail address'),
    firstname: z.string().nullable().optional(),
    lastname: z.string().nullable().optional(),
    phone: z.string().nullable().optional(),
    country: z.string().nullable().optional(),
    language: z.string().nullable().optional(),
  }),
  enabled: z.boolean().optional(),
  language: z.string().optional(),
  external_id: z.string().optional(),
  business_types: z.array(z.string()).optional(),
  notifications: z.array(z.string()).optional(),
});
export type UserPost = z.input<typeof userPostSchema>;

export const userSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  tenant_id: z.string(),
  login: z.string(),
  activated: z.boolean(),
  enabled: z.boolean(),
  language: z.string().nullish(),
  /** Users of customer tenants get a personal `unit` tenant (docs/acronis-api.md §6.2). */
  personal_tenant_id: z.string().nullish(),
  external_id: z.string().nullish(),
  contact: contactReadSchema.nullish(),
  created_at: acronisTimestamp.nullish(),
  deleted_at: acronisTimestamp.nullish(),
});
export type User = z.infer<typeof userSchema>;

export type LoginAvailability = 'available' | 'taken';

/**
 * GET /users/check_login: 204 free, 409 taken anywhere on the platform. A malformed login
 * answers 406, thrown as an unrecoverable AcronisApiError (docs/acronis-api.md §6.1). Not bound
 * into the client: the steps post and read a 409 instead; the sequential baseline of
 * `bench:onboard` asks it, as Acronis' sample scripts do.
 */
export async function checkLogin(api: AcronisTransport, login: string): Promise<LoginAvailability> {
  const { status } = await api.send(
    { method: 'GET', path: '/users/check_login', searchParams: { username: login } },
    [409],
  );
  return status === 409 ? 'taken' : 'available';
}

/** POST /users → 200 (not 201). */
export async function createUser(api: AcronisTransport, body: UserPost): Promise<User> {
  return api.json({ method: 'POST', path: '/users', json: userPostSchema.parse(body) }, userSchema);
}

/** GET /users/{id}. */
export async function getUser(api: AcronisTransport, userId: string): Promise<User> {
  return api.json({ method: 'GET', path: `/users/${encodeURIComponent(userId)}` }, userSchema);
}

/**
 * OAS `userPut` (additionalProperties:false), the part we change: `version` required, the rest a
 * partial update. The contact is OAS `contactPut`, as for the tenant.
 */
export const userPutSchema = z.strictObject({
  version: z.number().int(),
  contact: contactInputSchema.optional(),
});
export type UserPut = z.input<typeof userPutSchema>;

/**
 * PUT /users/{id} → the user with its version + 1; 409 (code 1001) when `version` is stale. An
 * activated user's new e-mail waits for the confirmation link the platform sends to the old
 * address (https://developer.acronis.com/doc/account-management/v2/guide/users/changing-email).
 */
export async function updateUser(api: AcronisTransport, userId: string, body: UserPut): Promise<User> {
  return api.json(
    { method: 'PUT', path: `/users/${encodeURIComponent(userId)}`, json: userPutSchema.parse(body) },
    userSchema,
  );
}

/** GET /tenants/{id}/users → the ids of the tenant's own users. */
export async function listTenantUserIds(api: AcronisTransport, tenantId: string): Promise<string[]> {
  const list = await api.json(
    { method: 'GET', path: `/tenants/${encodeURIComponent(tenantId)}/users` },
    z.object({ items: z.array(z.string()) }),
  );
  return list.items;
}

export const userRoles = [
  'root_admin',
  'partner_admin',
  'company_admin',
  'unit_admin',
  'readonly_admin',
  'protection_admin',
  'protection_ro_admin',
  'restore_operator',
  'backup_user',
  'sync_share_admin',
  'sync_share_user',
  'sync_share_guest',
  'pds_operator',
  'pds_support',
  'notary_admin',
  'notary_user',
  'hci_admin',
] as const;
export type UserRole = (typeof userRoles)[number];

export const accessPolicySchema = z.object({
  id: z.string(),
  role_id: z.string(),
  tenant_id: z.string(),
  trustee_id: z.string(),
  trustee_type: z.string(),
  version: z.number().int().optional(),
});
export type AccessPolicy = z.infer<typeof accessPolicySchema>;

const accessPolicyListSchema = z.object({ items: z.array(accessPolicySchema) });
const NIL_UUID = '00000000-0000-0000-0000-000000000000';

export interface RoleGrant {
  roleId: UserRole;
  /** Usually the customer tenant the user belongs to (docs/acronis-api.md §6.3 [C]: follow DOC). */
  tenantId: string;
}

/**
 * PUT /users/{id}/access_policies. It replaces the whole set, so the same call twice leaves
 * the same roles. The item shape (nil-UUID id/issuer_id, version 0, trustee_type user) is
 * the one DOC, PYX and WH send and DOC calls mandatory (docs/acronis-api.md §6.3).
 */
export async function setAccessPolicies(
  api: AcronisTransport,
  userId: string,
  grants: RoleGrant[],
): Promise<AccessPolicy[]> {
  const items = grants.map((g) => ({
    id: NIL_UUID,
    issuer_id: NIL_UUID,
    role_id: g.roleId,
    tenant_id: g.tenantId,
    trustee_id: userId,
    trustee_type: 'user',
    version: 0,
  }));
  const list = await api.json(
    { method: 'PUT', path: `/users/${encodeURIComponent(userId)}/access_policies`, json: { items } },
    accessPolicyListSchema,
  );
  return list.items;
}

/** GET /users/{id}/access_policies → the user's roles (each a role on a tenant). */
export async function getAccessPolicies(api: AcronisTransport, userId: string): Promise<AccessPolicy[]> {
  const list = await api.json(
    { method: 'GET', path: `/users/${encodeURIComponent(userId)}/access_policies` },
    accessPolicyListSchema,
  );
  return list.items;
}

/** POST /users/{id}/send-activation-email with an empty JSON body, as DOC says → 204. */
export async function sendActivationEmail(api: AcronisTransport, userId: string): Promise<void> {
  await api.empty({ method: 'POST', path: `/users/${encodeURIComponent(userId)}/send-activation-email`, json: {} });
}

/**
 * POST /users/{id}/password → 204: activates the user without e-mail. Allowed only to API
 * clients and only for users in sub-tenants (docs/acronis-api.md §6.4).
 */
export async function setUserPassword(api: AcronisTransport, userId: string, password: string): Promise<void> {
  await api.empty({ method: 'POST', path: `/users/${encodeURIComponent(userId)}/password`, json: { password } });
}
