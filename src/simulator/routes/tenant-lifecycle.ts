import { KNOWN_EDITIONS, itemKey } from '../catalogue.js';
import { badRequest, PlatformCode, SimError, versionMismatch } from '../errors.js';
import { noContent, ok, pathParam, Query } from '../http.js';
import { presentItem, presentTenant } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { zuluMillis } from '../timestamps.js';
import type { EffectiveItem, TenantRecord, World } from '../world.js';
import { assertNameFree } from './tenants.js';

/**
 * What happens to a customer after day one (docs/acronis-api.md §3.3, §3.4, §4.5, §12): the
 * tenant's PUT with its `version`, its DELETE (refused while enabled), the edition switch and
 * the two-factor status.
 */

interface TenantPutBody {
  version: number;
  name?: string;
  enabled?: boolean;
  contact?: Record<string, unknown>;
  customer_id?: string | null;
  internal_tag?: string | null;
  language?: string;
  parent_id?: string;
  kind?: string;
  ancestral_access?: boolean;
}

/** The tenant version: a small integer growing by one per change; a stale one is 409/1001 (§3.3). */
function assertVersion(tenant: TenantRecord, given: number): void {
  if (given !== tenant.version) throw versionMismatch(tenant.version, given);
}

/** PUT /tenants/{id}: a partial update (WH suspends with only `enabled` and `version`). */
function updateTenant({ world, caller, request, body }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const input = body as TenantPutBody;
  assertVersion(tenant, input.version);
  if (
    (input.parent_id !== undefined && input.parent_id !== tenant.parentId) ||
    (input.kind && input.kind !== tenant.kind)
  )
    throw badRequest('Moving a tenant or changing its kind is not simulated');
  if (input.name !== undefined && input.name.toLowerCase() !== tenant.name.toLowerCase() && tenant.parentId)
    assertNameFree(world, tenant.parentId, input.name);
  const now = world.now();
  if (input.name !== undefined) tenant.name = input.name;
  if (input.enabled !== undefined) tenant.enabled = input.enabled;
  if (input.customer_id !== undefined) tenant.customerId = input.customer_id;
  if (input.internal_tag !== undefined) tenant.internalTag = input.internal_tag;
  if (input.language !== undefined) tenant.language = input.language;
  if (input.ancestral_access !== undefined) tenant.ancestralAccess = input.ancestral_access;
  if (input.contact !== undefined) {
    tenant.contact.fields = { ...tenant.contact.fields, ...input.contact };
    tenant.contact.updatedAt = now;
  }
  tenant.version += 1;
  tenant.updatedAt = now;
  return ok(presentTenant(world, tenant));
}

/** DELETE /tenants/{id}?version=: only a disabled tenant (400/1006, §3.4); sub-tenants and users go with it. */
function deleteTenant({ world, caller, request }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const version = new Query(request).int('version');
  if (version === undefined) throw badRequest("'version' is required");
  if (tenant.enabled) {
    throw new SimError(
      400,
      PlatformCode.deleteEnabled,
      'It is prohibited to delete a non-disabled tenant.',
      `It is prohibited to delete a non-disabled tenant "${tenant.legacyId}"`,
      { context: { id: String(tenant.legacyId) } },
    );
  }
  assertVersion(tenant, version);
  world.deleteTenant(tenant.id, world.now());
  return noContent();
}

/**
 * The counterparts in `target` of the tenant's enabled items of its current Cyber Protection
 * edition, matched by usage name and storage; those the parent does not offer make the switch
 * impossible (400 with them in `error.context`, as the OAS says).
 */
function editionSwitchPlan(world: World, tenant: TenantRecord, applicationId: string, target: string) {
  if (!KNOWN_EDITIONS.has(target)) throw badRequest(`Unknown edition "${target}"`);
  const effective = world.effectiveItems(tenant);
  const current = effective.filter(
    (e) =>
      e.status === 1 && e.item.applicationId === applicationId && e.item.edition !== null && e.item.edition !== target,
  );
  const moves: { from: EffectiveItem; to: EffectiveItem['item'] }[] = [];
  const unavailable: string[] = [];
  for (const from of current) {
    const to = world.catalogue.find(
      (c) =>
        c.applicationId === applicationId &&
        c.edition === target &&
        c.usageName === from.item.usageName &&
        (c.infraId ?? null) === (from.item.infraId ?? null),
    );
    if (!to || !world.parentOffers(tenant, to)) unavailable.push(from.item.name);
    else moves.push({ from, to });
  }
  if (unavailable.length > 0) {
    throw new SimError(
      400,
      PlatformCode.offeringItemNotAvailable,
      'Offering item is not available',
      `Edition "${target}" has no available counterpart for ${unavailable.join(', ')}`,
      { context: { unavailable_offering_items: unavailable } },
    );
  }
  return moves;
}

function editionInput(request: HandlerInput['request'], body: unknown) {
  if (request.method === 'GET') {
    const query = new Query(request);
    return { applicationId: query.required('application_id'), target: query.required('target_edition') };
  }
  const input = body as { application_id: string; target_edition: string };
  return { applicationId: input.application_id, target: input.target_edition };
}

/** GET /tenants/{id}/edition?application_id=&target_edition=: the dry run. */
function checkEditionSwitch({ world, caller, request, body }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const { applicationId, target } = editionInput(request, body);
  const moves = editionSwitchPlan(world, tenant, applicationId, target);
  return ok({ warnings: moves.length > 0 ? ['OldFeaturesBecomeUnavailable', 'NewFeaturesBecomeAvailable'] : [] });
}

/** PUT /tenants/{id}/edition: the old edition's items off, their counterparts on with the same quotas. */
function switchEdition({ world, caller, request, body }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const { applicationId, target } = editionInput(request, body);
  const moves = editionSwitchPlan(world, tenant, applicationId, target);
  const now = world.now();
  for (const { from, to } of moves) {
    world.setItemState(tenant.id, itemKey(from.item.name, from.item.infraId), {
      status: 0,
      quota: null,
      updatedAt: now,
    });
    const quota = from.quota ? { ...from.quota, version: from.quota.value === null ? 0 : world.versionStamp() } : null;
    world.setItemState(tenant.id, itemKey(to.name, to.infraId), { status: 1, quota, updatedAt: now });
  }
  return ok({
    timestamp: zuluMillis(now),
    items: world.effectiveItems(tenant).map((e) => presentItem(tenant.id, e)),
  });
}

function mfaTenant({ world, caller, request }: HandlerInput): TenantRecord {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  if (tenant.kind === 'folder' || tenant.kind === 'unit')
    throw badRequest('Two-factor authentication cannot be managed on folder and unit tenants');
  return tenant;
}

function presentMfa(world: World, tenant: TenantRecord) {
  const users = [...world.users.values()].filter((u) => u.tenantId === tenant.id && u.deletedAt === null);
  return {
    mfa_status: tenant.mfaStatus === 'enabled' ? 'enabled' : 'disabled',
    users_count: users.length,
    users_with_totp_enabled_count: 0,
    update_allowed: true,
  };
}

/** GET /tenants/{id}/mfa/status. */
function fetchMfa(input: HandlerInput) {
  return ok(presentMfa(input.world, mfaTenant(input)));
}

/** PUT /tenants/{id}/mfa/status {"enabled"}: no version, the same value twice changes nothing. */
function setMfa(input: HandlerInput) {
  const tenant = mfaTenant(input);
  const { enabled } = input.body as { enabled: boolean };
  tenant.mfaStatus = enabled ? 'enabled' : 'disabled';
  tenant.updatedAt = input.world.now();
  return ok(presentMfa(input.world, tenant));
}

/** Whether an item being turned off has usage, which the API refuses to lose (§4.4 `check_usage`, §12). */
export function assertNoUsage(world: World, tenant: TenantRecord, item: EffectiveItem['item']): void {
  const used = world.usageOf(tenant.id, itemKey(item.name, item.infraId));
  if (used <= 0) return;
  throw new SimError(
    400,
    PlatformCode.businessRules,
    'Business rules violation',
    `Offering item "${item.name}" cannot be disabled: it has usage (${used})`,
    { context: { name: item.name, ...(item.infraId ? { infra_id: item.infraId } : {}), usage: used } },
  );
}

export function registerTenantLifecycleRoutes(router: ApiRouter): void {
  router.add('PUT /tenants/{tenant_id}', updateTenant);
  router.add('DELETE /tenants/{tenant_id}', deleteTenant);
  router.add('GET /tenants/{tenant_id}/edition', checkEditionSwitch);
  router.add('PUT /tenants/{tenant_id}/edition', switchEdition);
  router.add('GET /tenants/{tenant_id}/mfa/status', fetchMfa);
  router.add('PUT /tenants/{tenant_id}/mfa/status', setMfa);
}
