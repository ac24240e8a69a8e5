import { APPLICATIONS, ALWAYS_ON_APPLICATIONS, itemKey } from '../catalogue.js';
import { badRequest, notFound, PlatformCode, SimError } from '../errors.js';
import { isUuid, noContent, ok, pathParam, Query } from '../http.js';
import { presentApplications, presentInfra } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { withoutZone } from '../timestamps.js';
import type { TenantRecord, World } from '../world.js';

function listApplications({ world }: HandlerInput) {
  return ok({ items: presentApplications(world.catalogue) });
}

/** On when bound, when it is the platform, or when any of its items is enabled (docs/acronis-api.md §4.1). */
function listTenantApplications({ world, caller, request }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  return ok({ items: world.enabledApplications(tenant) });
}

function bindingTarget({ world, caller, request }: HandlerInput) {
  const applicationId = pathParam(request, 'application_id');
  if (!APPLICATIONS.some((a) => a.id === applicationId)) throw notFound(`Application "${applicationId}" not found`);
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  return { applicationId, tenant };
}

function bindApplication(input: HandlerInput) {
  const { applicationId, tenant } = bindingTarget(input);
  const bound = input.world.appBindings.get(tenant.id) ?? new Set<string>();
  bound.add(applicationId);
  input.world.appBindings.set(tenant.id, bound);
  return noContent();
}

/** Disabling a service is destructive: its items go off too. The platform cannot be disabled. */
function unbindApplication(input: HandlerInput) {
  const { applicationId, tenant } = bindingTarget(input);
  if (ALWAYS_ON_APPLICATIONS.includes(applicationId)) {
    throw new SimError(
      400,
      PlatformCode.businessRules,
      'Business rules violation',
      'The platform application cannot be disabled',
    );
  }
  const { world } = input;
  world.appBindings.get(tenant.id)?.delete(applicationId);
  const now = world.now();
  for (const { item, status } of world.effectiveItems(tenant)) {
    if (item.applicationId === applicationId && status === 1)
      world.setItemState(tenant.id, itemKey(item.name, item.infraId), { status: 0, quota: null, updatedAt: now });
  }
  return noContent();
}

function listInfra({ world, request }: HandlerInput) {
  const ids = new Query(request).list('uuids');
  if (!ids) throw badRequest("'uuids' is required");
  return ok({ items: world.infras.filter((i) => ids.includes(i.id)).map(presentInfra) });
}

/** GET /tenants/{id}/infra → `{"infras":[uuid]}`: the storages the tenant can use (docs/acronis-api.md §4.6). */
function listTenantInfra({ world, caller, request }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const ids = new Set<string>();
  for (const { item } of world.effectiveItems(tenant)) if (item.infraId) ids.add(item.infraId);
  return ok({ infras: [...ids] });
}

/**
 * GET /tenants/{id}/usages: one entry per enabled item — the simulator runs no workloads, so
 * zero unless /__sim/usage set a usage (docs/acronis-api.md §8, docs/simulator.md).
 */
function listUsages({ world, caller, request }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  return ok({ items: usagesOf(world, tenant, new Query(request)) });
}

/**
 * GET /tenants/usages?tenants=a,b,… (OAS `FetchTenantsUsagesBatch`): each tenant's usages as
 * the per-tenant read gives them, `{tenant, usages}` per tenant. `tenants` is required and must
 * hold UUIDs (the OAS pattern); a tenant outside the caller's subtree is a 403, as it is alone.
 */
function listTenantsUsages({ world, caller, request }: HandlerInput) {
  const query = new Query(request);
  const ids = query.list('tenants') ?? [];
  if (ids.length === 0) throw badRequest("'tenants' is required");
  for (const id of ids) if (!isUuid(id)) throw badRequest(`'tenants' must hold UUIDs, got "${id}"`);
  const items = [...new Set(ids)].map((id) => ({
    tenant: id,
    usages: usagesOf(world, world.visibleTenant(caller, id), query),
  }));
  return ok({ items });
}

function usagesOf(world: World, tenant: TenantRecord, query: Query) {
  const usageNames = query.list('usage_names');
  const editions = query.list('editions');
  const now = new Date(world.now());
  const rangeStart = withoutZone(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  return world
    .effectiveItems(tenant)
    .filter(
      ({ item, status }) =>
        status === 1 &&
        (!usageNames || usageNames.includes(item.usageName)) &&
        (!editions || editions.includes(String(item.edition))),
    )
    .map(({ item, status, quota }) => ({
      application_id: item.applicationId,
      name: item.name,
      edition: item.edition,
      usage_name: item.usageName,
      type: item.type,
      measurement_unit: item.measurementUnit,
      ...(item.infraId ? { infra_id: item.infraId } : {}),
      tenant_uuid: tenant.id,
      tenant_id: tenant.legacyId,
      range_start: rangeStart,
      absolute_value: world.usageOf(tenant.id, itemKey(item.name, item.infraId)),
      value: world.usageOf(tenant.id, itemKey(item.name, item.infraId)),
      offering_item: { status, ...(quota ? { quota: { ...quota } } : {}) },
    }));
}

export function registerApplicationRoutes(router: ApiRouter): void {
  router.add('GET /applications', listApplications);
  router.add('GET /tenants/{tenant_id}/applications', listTenantApplications);
  router.add('POST /applications/{application_id}/bindings/tenants/{tenant_id}', bindApplication);
  router.add('DELETE /applications/{application_id}/bindings/tenants/{tenant_id}', unbindApplication);
  router.add('GET /infra', listInfra);
  router.add('GET /tenants/{tenant_id}/infra', listTenantInfra);
  router.add('GET /tenants/{tenant_id}/usages', listUsages);
  router.add('GET /tenants/usages', listTenantsUsages);
}
