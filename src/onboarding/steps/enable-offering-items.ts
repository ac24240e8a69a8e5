import type { OfferingItemChange } from '../../acronis/offering-items.js';
import { chainDataWith } from '../chain.js';
import { planFromTemplate, planOfferingItems } from '../offering-plan.js';
import { ownQuotasOf } from '../own-quotas.js';
import { profileEditionFor } from '../profile.js';
import { defineStep, type StepContext } from '../step.js';

/**
 * enable-offering-items: what the partner may give a customer of the edition (fetched once
 * per partner and edition for the whole batch), narrowed by the profile to its items,
 * quotas and exactly one storage — or the enabled items of a template customer. The PUT
 * sets those items, so repeating it changes nothing.
 */
export const enableOfferingItems = defineStep({
  name: 'enable-offering-items',
  input: chainDataWith('tenantId'),
  async run({ partnerTenantId, request, profile, facts }, ctx) {
    const template = profile.template_tenant_id;
    if (template) {
      const changes = planFromTemplate(await ctx.offers.enabledItemsOf(template), template);
      await enable(ctx, facts.tenantId, changes, `copied from template tenant ${template}`);
      return { edition: null, offeringItemsEnabled: changes.length };
    }
    const edition = profileEditionFor(profile, request.edition);
    const available = await ctx.offers.availableForChild(partnerTenantId, edition);
    const quotas = request.quotas;
    const changes = planOfferingItems({ available, profile, edition, ...(quotas ? { customerQuotas: quotas } : {}) });
    await enable(ctx, facts.tenantId, changes, `of ${edition}`);
    // Remembered so that a later change keeps them (docs/lifecycle.md "Per-customer quotas").
    const ownQuotas = quotas && Object.keys(quotas).length > 0 ? ownQuotasOf(quotas, changes, available) : undefined;
    return { edition, offeringItemsEnabled: changes.length, ...(ownQuotas ? { ownQuotas } : {}) };
  },
});

async function enable(
  ctx: StepContext,
  tenantId: string,
  changes: OfferingItemChange[],
  origin: string,
): Promise<void> {
  await ctx.acronis.putOfferingItems(tenantId, changes);
  await ctx.log(`enabled ${changes.length} offering items ${origin}: ${changes.map((c) => c.name).join(', ')}`);
}
