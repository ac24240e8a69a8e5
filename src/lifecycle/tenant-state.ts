import type { AcronisEndpoints } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import type { Tenant } from '../acronis/tenants.js';

/** The platform's "Version mismatch" (docs/acronis-api.md §3.3): someone changed the tenant since we read it. */
const VERSION_MISMATCH = 1001;
/** Reads and writes against a tenant others keep changing before we give up (the step then retries later). */
export const MAX_VERSION_ROUNDS = 4;

type TenantCalls = Pick<AcronisEndpoints, 'getTenant' | 'updateTenant' | 'deleteTenant'>;

export function isVersionMismatch(err: unknown): boolean {
  return err instanceof AcronisApiError && (err.platformCode === VERSION_MISMATCH || err.status === 409);
}

export class VersionRaceError extends Error {
  /** `what`: "tenant <id>" or "user <id>". */
  constructor(what: string) {
    super(`${what} changed under us ${MAX_VERSION_ROUNDS} times in a row (version mismatch each time); will try again`);
    this.name = 'VersionRaceError';
  }
}

/**
 * The tenant's `enabled` set to `wanted`: one read, and one write only when it differs (a re-run
 * after the API committed finds it set and sends nothing). A stale `version` (409/1001: someone
 * changed the tenant between our read and our write) reads again and retries.
 */
export async function setTenantEnabled(
  acronis: TenantCalls,
  tenantId: string,
  wanted: boolean,
): Promise<{ tenant: Tenant; changed: boolean }> {
  for (let round = 0; round < MAX_VERSION_ROUNDS; round++) {
    const tenant = await acronis.getTenant(tenantId);
    if (tenant.enabled === wanted) return { tenant, changed: false };
    try {
      return {
        tenant: await acronis.updateTenant(tenantId, { enabled: wanted, version: tenant.version }),
        changed: true,
      };
    } catch (err) {
      if (!isVersionMismatch(err)) throw err;
    }
  }
  throw new VersionRaceError(`tenant ${tenantId}`);
}

/**
 * Deletes a disabled tenant: one read for its version, one DELETE. Gone already (a re-run after
 * the API committed) → nothing sent. Enabled again (someone resumed it outside acronis-onboard)
 * → not deleted: the caller says so.
 */
export async function deleteDisabledTenant(
  acronis: TenantCalls,
  tenantId: string,
): Promise<'deleted' | 'gone-already' | 'enabled-again'> {
  for (let round = 0; round < MAX_VERSION_ROUNDS; round++) {
    let tenant: Tenant;
    try {
      tenant = await acronis.getTenant(tenantId);
    } catch (err) {
      if (err instanceof AcronisApiError && err.status === 404) return 'gone-already';
      throw err;
    }
    if (tenant.enabled) return 'enabled-again';
    try {
      await acronis.deleteTenant(tenantId, tenant.version);
      return 'deleted';
    } catch (err) {
      if (!isVersionMismatch(err)) throw err;
    }
  }
  throw new VersionRaceError(`tenant ${tenantId}`);
}
