import { PlatformCode, SimError, versionMismatch } from '../errors.js';
import { ok, pathParam } from '../http.js';
import { presentPricing } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import type { PricingRecord } from '../world.js';

function pricingOf({ world, caller, request }: HandlerInput): PricingRecord {
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const pricing = world.pricing.get(tenant.id);
  if (!pricing) throw new SimError(404, 404, 'Not Found', `Tenant "${tenant.id}" has no pricing settings`);
  return pricing;
}

function fetchPricing(input: HandlerInput) {
  return ok(presentPricing(pricingOf(input)));
}

/**
 * PUT /tenants/{id}/pricing (docs/acronis-api.md §5): `version` is the current ms-epoch version
 * (stale → 409/1001); trial → production is one-way, so going back to trial is a 400 with
 * the business-rules code 1027 [I].
 */
function updatePricing(input: HandlerInput) {
  const pricing = pricingOf(input);
  const body = input.body as { mode?: PricingRecord['mode']; currency?: string | null; version: number };
  if (body.version !== pricing.version) throw versionMismatch(pricing.version, body.version);
  const mode = body.mode ?? pricing.mode;
  if (mode === 'trial' && pricing.mode !== 'trial') {
    throw new SimError(
      400,
      PlatformCode.businessRules,
      'Business rules violation',
      `Switching from ${pricing.mode} back to trial is not allowed`,
    );
  }
  const currency = body.currency === undefined ? pricing.currency : body.currency;
  if (mode !== pricing.mode || currency !== pricing.currency) {
    const now = input.world.now();
    // In production, production_start_date is when the switch happened.
    if (pricing.mode === 'trial' && mode === 'production') pricing.productionStartDate = now;
    pricing.mode = mode;
    pricing.currency = currency;
    pricing.version = input.world.versionStamp();
    // The tenant object shows `pricing_mode`: a change of it is a change of the tenant (docs/reconcile.md).
    const tenant = input.world.tenants.get(pathParam(input.request, 'tenant_id'));
    if (tenant) tenant.updatedAt = now;
  }
  return ok(presentPricing(pricing));
}

export function registerPricingRoutes(router: ApiRouter): void {
  router.add('GET /tenants/{tenant_id}/pricing', fetchPricing);
  router.add('PUT /tenants/{tenant_id}/pricing', updatePricing);
}
