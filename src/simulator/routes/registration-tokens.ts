import { badRequest, notFound } from '../errors.js';
import { noContent, ok, pathParam } from '../http.js';
import { presentRegistrationToken } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import type { TenantRecord, World } from '../world.js';

const ONE_YEAR_SECONDS = 365 * 24 * 3600;
const UUID_PART = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const AGENT_SCOPE = new RegExp(`^urn:acronis\\.com:tenant-id:(${UUID_PART})?:backup_agent_admin$`);
const POLICY_SCOPE = new RegExp(`^urn:acronis\\.com::policy_management:(${UUID_PART})\\|[^:|]+:apply_revoke$`);

/**
 * The two scope forms of docs/acronis-api.md §7: the DOC's `…:tenant-id:{uuid}:backup_agent_admin`
 * and PYX's `…:tenant-id::backup_agent_admin`, where an empty tenant means the one in the
 * path [I]. A named tenant must be the path's tenant or below it.
 */
function scopeProblem(world: World, tenant: TenantRecord, scope: string): string | null {
  const match = AGENT_SCOPE.exec(scope) ?? POLICY_SCOPE.exec(scope);
  if (!match) return `Unsupported scope "${scope}"`;
  const scoped = match[1];
  if (scoped && (!world.tenants.has(scoped) || !world.isInSubtree(scoped, tenant.id))) {
    return `Scope "${scope}" names a tenant outside tenant ${tenant.id}`;
  }
  return null;
}

/** POST /tenants/{id}/registration_tokens → 200 (the deprecated POST /registration_tokens gave 201). */
function createToken({ world, caller, request, body }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const input = body as { expires_in: number; scopes: string[] };
  if (input.expires_in <= 0 || input.expires_in > ONE_YEAR_SECONDS) {
    throw badRequest(`'expires_in' must be between 1 and ${ONE_YEAR_SECONDS} seconds (one year)`);
  }
  if (input.scopes.length === 0) throw badRequest("'scopes' must not be empty");
  const problems = input.scopes
    .map((scope) => scopeProblem(world, tenant, scope))
    .filter((p): p is string => p !== null);
  if (problems.length > 0) throw badRequest(problems.join('; '), problems);
  const now = world.now();
  const record = {
    id: world.nextRegistrationTokenNumber(),
    token: world.ids.registrationToken(),
    tenantId: tenant.id,
    // Whole seconds, as the API shows them.
    createdAt: Math.floor(now / 1000) * 1000,
    expiresAt: Math.floor(now / 1000) * 1000 + input.expires_in * 1000,
    scopes: [...input.scopes],
    deletedAt: null,
  };
  world.registrationTokens.push(record);
  return ok(presentRegistrationToken(world, record));
}

function listTokens({ world, caller, request }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const items = world.registrationTokens.filter((r) => r.tenantId === tenant.id && r.deletedAt === null);
  return ok({ items: items.map((r) => presentRegistrationToken(world, r)) });
}

function deleteToken({ world, caller, request }: HandlerInput) {
  const raw = pathParam(request, 'token_id', 'string');
  const record = world.registrationTokens.find((r) => String(r.id) === raw && r.deletedAt === null);
  if (!record) throw notFound(`Registration token "${raw}" not found`);
  world.visibleTenant(caller, record.tenantId);
  record.deletedAt = world.now();
  return noContent();
}

export function registerRegistrationTokenRoutes(router: ApiRouter): void {
  router.add('POST /tenants/{tenant_id}/registration_tokens', createToken);
  router.add('GET /tenants/{tenant_id}/registration_tokens', listTokens);
  router.add('DELETE /registration_tokens/{token_id}', deleteToken);
}
