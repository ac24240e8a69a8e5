import { z } from 'zod';
import { BACKUP_APPLICATION_ID, KNOWN_EDITIONS, itemKey, type CatalogueItem } from '../catalogue.js';
import { badRequest, PlatformCode, SimError, versionMismatch } from '../errors.js';
import { ok, pathParam, Query } from '../http.js';
import { decodeCursor, encodeCursor, paginate } from '../paging.js';
import { presentItem } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { zuluMillis } from '../timestamps.js';
import type { EffectiveItem, ItemState, Quota, TenantKind, TenantRecord, World } from '../world.js';
import { assertNoUsage } from './tenant-lifecycle.js';
import { assertKindAllowed } from './tenants.js';

/**
 * `edition` defaults to `standard`, `*` means all, and editionless items are never filtered
 * out (docs/acronis-api.md §4.3). An unknown edition is a 400 (§4.5 [I]).
 */
function editionFilter(query: Query): (item: CatalogueItem) => boolean {
  const raw = query.string('edition') ?? 'standard';
  if (raw === '*') return () => true;
  const editions = raw.split(',').map((e) => e.trim());
  for (const edition of editions) if (!KNOWN_EDITIONS.has(edition)) throw badRequest(`Unknown edition "${edition}"`);
  return (item) => item.edition === null || editions.includes(item.edition);
}

const ItemCursorSchema = z.object({
  tenantId: z.string(),
  query: z.record(z.string(), z.string()),
  key: z.array(z.number()),
});

/** GET /tenants/{id}/offering_items → offeringItemList; `limit`/`after` page when given. */
function listItems({ world, caller, request }: HandlerInput) {
  let query = new Query(request);
  let afterKey: number[] | null = null;
  const after = query.string('after');
  const tenantId = pathParam(request, 'tenant_id');
  if (after) {
    const cursor = decodeCursor(after, ItemCursorSchema);
    if (cursor.tenantId !== tenantId) throw badRequest("'after' belongs to another tenant");
    query = new Query({ query: { ...cursor.query, ...(query.has('limit') ? { limit: query.string('limit') } : {}) } });
    afterKey = cursor.key;
  }
  const tenant = world.visibleTenant(caller, tenantId);
  const matchesEdition = editionFilter(query);
  const usageNames = query.list('usage_names');
  const status = query.oneOf('status', ['0', '1'] as const);
  const type = query.oneOf('type', ['count', 'feature', 'infra'] as const);
  const infraId = query.string('infra_uuid');
  const items = world
    .effectiveItems(tenant)
    .map((effective, index) => ({ effective, index }))
    .filter(
      ({ effective: { item, status: itemStatus } }) =>
        matchesEdition(item) &&
        (!usageNames || usageNames.includes(item.usageName)) &&
        (status === undefined || Number(status) === itemStatus) &&
        (type === undefined || item.type === type) &&
        (infraId === undefined || item.infraId === infraId),
    );
  const limit = query.int('limit', { min: 1 });
  const body: Record<string, unknown> = { timestamp: zuluMillis(world.now()) };
  if (limit === undefined) {
    body.items = items.map(({ effective }) => presentItem(tenant.id, effective));
  } else {
    const { page, next } = paginate(items, (i) => [i.index], limit, afterKey);
    body.items = page.map(({ effective }) => presentItem(tenant.id, effective));
    const filters = Object.fromEntries(
      ['edition', 'usage_names', 'status', 'type', 'infra_uuid', 'limit'].flatMap((name) => {
        const value = query.string(name);
        return value === undefined ? [] : [[name, value]];
      }),
    );
    body.paging = { cursors: next ? { after: encodeCursor({ tenantId: tenant.id, query: filters, key: next }) } : {} };
  }
  return ok(body);
}

/**
 * GET /tenants/{parent}/offering_items/available_for_child?kind=&edition=: what a new child
 * of that kind could enable — the parent's enabled items, shown as enabled, without quota.
 */
function availableForChild({ world, caller, request }: HandlerInput) {
  const query = new Query(request);
  const parent = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const kind = query.oneOf('kind', ['partner', 'folder', 'customer', 'unit'] as const) ?? 'customer';
  assertKindAllowed(parent, kind as TenantKind);
  const matchesEdition = editionFilter(query);
  const items = world
    .effectiveItems(parent)
    .filter(({ item, status }) => status === 1 && matchesEdition(item))
    .map(({ item, updatedAt }) => presentItem(parent.id, { item, status: 1, quota: null, updatedAt }));
  return ok({ timestamp: zuluMillis(world.now()), items });
}

interface ItemPut {
  application_id: string;
  name: string;
  status?: 0 | 1;
  infra_id?: string;
  quota?: Quota;
}

/**
 * The quota rules of docs/acronis-api.md §4.2: `value:null` is unlimited and resets `overage` and
 * `version` to null/0; otherwise the version becomes a ms timestamp. A non-zero version that
 * is not the current one is stale: 409 with code 1001 (§4.4 [I]). Version 0 means "new".
 */
function nextQuota(world: World, current: Quota | null, given: Quota): Quota {
  const currentVersion = current?.version ?? 0;
  if (given.version !== 0 && currentVersion !== 0 && given.version !== currentVersion)
    throw versionMismatch(currentVersion, given.version);
  if (given.value === null) return { value: null, overage: null, version: 0 };
  return { value: given.value, overage: given.overage, version: world.versionStamp() };
}

function catalogueEntry(world: World, entry: ItemPut): CatalogueItem {
  const item = world.catalogueItem(entry.application_id, entry.name, entry.infra_id);
  if (item) return item;
  const sameName = world.catalogue.filter((c) => c.applicationId === entry.application_id && c.name === entry.name);
  if (sameName.some((c) => c.infraId) && !entry.infra_id)
    throw badRequest(`Offering item "${entry.name}" is an infra item: 'infra_id' is required`);
  if (sameName.length > 0 && sameName.every((c) => !c.infraId))
    throw badRequest(`Offering item "${entry.name}" takes no 'infra_id'`);
  throw new SimError(
    400,
    PlatformCode.offeringItemNotAvailable,
    'Offering item is not available',
    `Offering item "${entry.name}"${entry.infra_id ? ` on infra "${entry.infra_id}"` : ''} is not available`,
  );
}

/** A customer has one Cyber Protection edition and one storage (docs/acronis-api.md §4.4). */
function checkCustomerRules(tenant: TenantRecord, result: EffectiveItem[]): void {
  if (tenant.kind !== 'customer') return;
  const enabled = result.filter((e) => e.status === 1);
  const editions = new Set(
    enabled
      .filter((e) => e.item.applicationId === BACKUP_APPLICATION_ID && e.item.edition !== null)
      .map((e) => e.item.edition),
  );
  if (editions.size > 1) {
    throw new SimError(
      400,
      PlatformCode.businessRules,
      'Business rules violation',
      `A customer tenant may have only one Cyber Protection edition; got ${[...editions].join(', ')}`,
      {
        context: { editions: [...editions] },
      },
    );
  }
  const infras = new Set(enabled.filter((e) => e.item.type === 'infra').map((e) => e.item.infraId));
  if (infras.size > 1) {
    throw new SimError(
      400,
      PlatformCode.infraConflict,
      'Infrastructure component conflict',
      'For a customer tenant, only one storage can be enabled',
      {
        context: { infra_ids: [...infras] },
      },
    );
  }
}

/**
 * An item that needs another one (mailboxes their seats) cannot be on without it: 400 with
 * code 1023, whether the PUT enables the dependent item or disables the one it needs (§4.4).
 */
function checkDependencies(result: EffectiveItem[]): void {
  const enabled = new Set(result.filter((e) => e.status === 1).map((e) => e.item.name));
  for (const { item, status } of result) {
    if (status !== 1 || item.requires === undefined || enabled.has(item.requires)) continue;
    throw new SimError(
      400,
      PlatformCode.offeringItemsDependency,
      'Offering items dependency error',
      `Offering item "${item.name}" requires "${item.requires}" to be enabled`,
      { context: { name: item.name, requires: item.requires } },
    );
  }
}

/**
 * PUT /tenants/{id}/offering_items with `{"offering_items":[…]}` (never `items`, §4.3): a
 * partial update of the listed name+infra_id pairs, all or nothing.
 */
function setItems({ world, caller, request, body }: HandlerInput) {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const { offering_items: entries, check_usage: checkUsage } = body as {
    offering_items: ItemPut[];
    check_usage?: boolean;
  };
  const now = world.now();
  const changes = new Map<string, { item: CatalogueItem; state: ItemState }>();
  for (const entry of entries) {
    const item = catalogueEntry(world, entry);
    const key = itemKey(item.name, item.infraId);
    const own = world.ownItemState(tenant.id, key);
    const currentStatus = changes.get(key)?.state.status ?? world.itemStatus(tenant, item);
    const status = entry.status ?? currentStatus;
    if (tenant.ownerId !== null && status !== currentStatus) {
      throw new SimError(
        400,
        PlatformCode.businessRules,
        'Business rules violation',
        'Offering items of a personal tenant cannot be enabled or disabled, only their quotas changed',
      );
    }
    if (status === 1 && !world.parentOffers(tenant, item)) {
      throw new SimError(
        400,
        PlatformCode.offeringItemNotAvailable,
        'Offering item is not available',
        `The parent tenant does not have "${item.name}" enabled`,
        {
          context: { name: item.name, ...(item.infraId ? { infra_id: item.infraId } : {}) },
        },
      );
    }
    // Turning off an item in use loses what it holds: refused unless the caller says not to check (§4.4).
    if (status === 0 && currentStatus === 1 && checkUsage !== false) assertNoUsage(world, tenant, item);
    let quota: Quota | null = null;
    if (status === 1) {
      const currentQuota = own?.quota ?? null;
      quota = entry.quota
        ? nextQuota(world, currentQuota, entry.quota)
        : (currentQuota ?? { value: null, overage: null, version: 0 });
    }
    changes.set(key, { item, state: { status, quota, updatedAt: now } });
  }

  const result = world.effectiveItems(tenant).map((effective) => {
    const change = changes.get(itemKey(effective.item.name, effective.item.infraId));
    return change
      ? { item: effective.item, status: change.state.status, quota: change.state.quota, updatedAt: now }
      : effective;
  });
  checkCustomerRules(tenant, result);
  checkDependencies(result);

  for (const [key, { state }] of changes) world.setItemState(tenant.id, key, state);
  return ok({
    timestamp: zuluMillis(now),
    items: [...changes.values()].map(({ item, state }) => presentItem(tenant.id, { item, ...state })),
  });
}

export function registerOfferingItemRoutes(router: ApiRouter): void {
  router.add('GET /tenants/{tenant_id}/offering_items', listItems);
  router.add('GET /tenants/{tenant_id}/offering_items/available_for_child', availableForChild);
  router.add('PUT /tenants/{tenant_id}/offering_items', setItems);
}
