import { chainDataWith } from '../chain.js';
import { defineStep } from '../step.js';

/** assign-roles: the PUT replaces the user's whole role set, so repeating it is harmless (docs/acronis-api.md §6.3). */
export const assignRoles = defineStep({
  name: 'assign-roles',
  input: chainDataWith('tenantId', 'userId'),
  async run({ profile, facts }, ctx) {
    const policies = await ctx.acronis.setAccessPolicies(
      facts.userId,
      profile.roles.map((roleId) => ({ roleId, tenantId: facts.tenantId })),
    );
    await ctx.log(`roles ${profile.roles.join(', ')} on tenant ${facts.tenantId}`);
    return { roles: policies.map((p) => p.role_id) };
  },
});
