import type { OfferingItemChange } from '../../acronis/offering-items.js';
import { chainDataWith } from '../chain.js';
import { planFromTemplate, planOfferingItems } from '../offering-plan.js';
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
    const changes = planOfferingItems({
      available: await ctx.offers.availableForChild(partnerTenantId, edition),
      profile,
      edition,
      ...(request.quotas ? { customerQuotas: request.quotas } : {}),
    });
    await enable(ctx, facts.tenantId, changes, `of ${edition}`);
    return { edition, offeringItemsEnabled: changes.length };
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
