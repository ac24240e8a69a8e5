import type { ChainFacts } from '../chain.js';
import { chainDataWith } from '../chain.js';
import { defineStep, type StepContext } from '../step.js';

/** The role that makes a user the customer's administrator (docs/acronis-api.md §6.3). */
const ADMIN_ROLE = 'company_admin';
/** Users whose roles are read looking for the administrator, at most: a customer's own users are few. */
const MAX_USERS_READ = 20;

/**
 * adopt-read-back, an adoption's last step (docs/adopt.md): what the tenant has, read and recorded
 * as the customer's facts, so `status`, `results`, the dashboard and the lifecycle actions know it
 * as they know a customer this install onboarded: its administrator (the first user holding
 * company_admin on the tenant: the user `change` gives roles and `contact` changes), the edition
 * and count of its enabled offering items, its pricing mode. Only reads: a re-run reads again.
 */
export const adoptReadBack = defineStep({
  name: 'adopt-read-back',
  input: chainDataWith('tenantId'),
  async run({ facts }, ctx) {
    const tenantId = facts.tenantId;
    const items = await ctx.acronis.getOfferingItems(tenantId, { edition: '*', status: 1 });
    const pricing = await ctx.acronis.getPricing(tenantId);
    const admin = await administrator(ctx, tenantId);
    const edition = items.find((i) => i.edition !== null)?.edition ?? null;
    const who = admin.userId ? `admin ${admin.login}` : 'no admin user';
    await ctx.log(
      `read back: ${who}, ${items.length} offering items on (edition ${edition ?? 'none'}), pricing ${pricing.mode}`,
    );
    return { ...admin, edition, offeringItemsEnabled: items.length, pricingMode: pricing.mode };
  },
});

/** The tenant's administrator, when it has one; the users are read one by one until found. */
async function administrator(ctx: StepContext, tenantId: string): Promise<Partial<ChainFacts>> {
  const userIds = await ctx.acronis.listTenantUserIds(tenantId);
  for (const userId of userIds.slice(0, MAX_USERS_READ)) {
    const roles = (await ctx.acronis.getAccessPolicies(userId))
      .filter((p) => p.tenant_id === tenantId)
      .map((p) => p.role_id);
    if (!roles.includes(ADMIN_ROLE)) continue;
    const user = await ctx.acronis.getUser(userId);
    return {
      userId,
      userCreated: false,
      login: user.login,
      roles,
      personalTenantId: user.personal_tenant_id ?? null,
      activation: user.activated ? 'already-activated' : 'not-requested',
    };
  }
  return {};
}
