import { z } from 'zod';
import { pricingModes } from './tenants.js';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

export const pricingSchema = z.object({
  mode: z.enum(pricingModes),
  currency: z.string().nullish(),
  /** A ms epoch, not a small integer like tenant versions (docs/acronis-api.md §5). */
  version: z.number().int(),
  production_start_date: acronisTimestamp.nullish(),
});
export type Pricing = z.infer<typeof pricingSchema>;

/** GET /tenants/{id}/pricing. */
export async function getPricing(api: AcronisTransport, tenantId: string): Promise<Pricing> {
  return api.json({ method: 'GET', path: `/tenants/${encodeURIComponent(tenantId)}/pricing` }, pricingSchema);
}

export const pricingPutSchema = z.strictObject({
  mode: z.enum(pricingModes).optional(),
  version: z.number().int(),
  currency: z.string().nullable().optional(),
});
export type PricingPut = z.infer<typeof pricingPutSchema>;

/**
 * PUT /tenants/{id}/pricing. trial → production can be done once and never undone
 * (docs/acronis-api.md §5): callers switch only when the profile asks.
 */
export async function setPricing(api: AcronisTransport, tenantId: string, body: PricingPut): Promise<Pricing> {
  return api.json(
    { method: 'PUT', path: `/tenants/${encodeURIComponent(tenantId)}/pricing`, json: pricingPutSchema.parse(body) },
    pricingSchema,
  );
}
