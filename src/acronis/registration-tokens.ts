import { z } from 'zod';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

export const registrationTokenSchema = z.object({
  id: z.number().int(),
  token: z.string().regex(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/, 'is not a registration token (XXXX-XXXX-XXXX)'),
  /** The numeric legacy tenant id, as a string (docs/acronis-api.md §7). */
  tenant_id: z.string(),
  tenant_uuid: z.string().optional(),
  created_at: acronisTimestamp,
  expires_at: acronisTimestamp,
  scopes: z.array(z.string()),
});
export type RegistrationToken = z.infer<typeof registrationTokenSchema>;

/** The registration tokens' documented ceiling: one year. */
export const MAX_REGISTRATION_TOKEN_SECONDS = 365 * 24 * 60 * 60;

/** The scope that binds registered machines to a user through its personal tenant (docs/acronis-api.md §7). */
export function backupAgentAdminScope(personalTenantId: string): string {
  return `urn:acronis.com:tenant-id:${personalTenantId}:backup_agent_admin`;
}

/** POST /tenants/{id}/registration_tokens (`registrationTokenPostV2`) → 200. */
export async function createRegistrationToken(
  api: AcronisTransport,
  tenantId: string,
  input: { expiresInSeconds: number; scopes: string[] },
): Promise<RegistrationToken> {
  if (
    !Number.isInteger(input.expiresInSeconds) ||
    input.expiresInSeconds < 1 ||
    input.expiresInSeconds > MAX_REGISTRATION_TOKEN_SECONDS
  ) {
    throw new RangeError(`a registration token lives 1 s to one year; got ${input.expiresInSeconds} s`);
  }
  return api.json(
    {
      method: 'POST',
      path: `/tenants/${encodeURIComponent(tenantId)}/registration_tokens`,
      json: { expires_in: input.expiresInSeconds, scopes: input.scopes },
    },
    registrationTokenSchema,
  );
}

/** GET /tenants/{id}/registration_tokens. */
export async function listRegistrationTokens(api: AcronisTransport, tenantId: string): Promise<RegistrationToken[]> {
  const list = await api.json(
    { method: 'GET', path: `/tenants/${encodeURIComponent(tenantId)}/registration_tokens` },
    z.object({ items: z.array(registrationTokenSchema) }),
  );
  return list.items;
}
