import { chainDataWith } from '../chain.js';
import { defineStep } from '../step.js';

/**
 * set-pricing: only in chains whose profile asks for production. The switch is one-way
 * (docs/acronis-api.md §5), so a tenant already in production is left alone.
 */
export const setPricing = defineStep({
  name: 'set-pricing',
  input: chainDataWith('tenantId'),
  async run({ profile, facts }, ctx) {
    const current = await ctx.acronis.getPricing(facts.tenantId);
    if (current.mode === profile.pricing_mode) return { pricingMode: current.mode };
    const updated = await ctx.acronis.setPricing(facts.tenantId, {
      mode: profile.pricing_mode,
      version: current.version,
    });
    await ctx.log(`pricing ${current.mode} → ${updated.mode}`);
    return { pricingMode: updated.mode };
  },
});
