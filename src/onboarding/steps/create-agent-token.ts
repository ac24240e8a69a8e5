import { backupAgentAdminScope } from '../../acronis/registration-tokens.js';
import { chainDataWith } from '../chain.js';
import { defineStep } from '../step.js';

/**
 * create-agent-token: a registration token binding machines to the admin through the
 * personal tenant (docs/acronis-api.md §7). Before the POST the job records that a token is
 * being made; a re-run that finds the mark reuses the token an earlier attempt created.
 */
export const createAgentToken = defineStep({
  name: 'create-agent-token',
  input: chainDataWith('tenantId', 'userId'),
  async run({ profile, facts }, ctx) {
    const scope = backupAgentAdminScope(facts.personalTenantId ?? facts.tenantId);
    if (facts.tokenRequestedAt) {
      const since = Date.parse(facts.tokenRequestedAt) - 60_000;
      const earlier = (await ctx.acronis.listRegistrationTokens(facts.tenantId)).find(
        (t) => t.scopes.includes(scope) && Date.parse(t.created_at) >= since && Date.parse(t.expires_at) > Date.now(),
      );
      if (earlier) {
        await ctx.log(`reusing registration token ${earlier.id} created by an earlier attempt`);
        return {
          tokenId: earlier.id,
          tokenSealed: ctx.secrets.seal(earlier.token, 'registration_token'),
          tokenExpiresAt: earlier.expires_at,
        };
      }
    } else {
      await ctx.checkpoint({ tokenRequestedAt: new Date().toISOString() });
    }
    const token = await ctx.acronis.createRegistrationToken(facts.tenantId, {
      expiresInSeconds: profile.agent_token.expires_in,
      scopes: [scope],
    });
    await ctx.log(`registration token ${token.id} expires ${token.expires_at}`);
    return {
      tokenId: token.id,
      tokenSealed: ctx.secrets.seal(token.token, 'registration_token'),
      tokenExpiresAt: token.expires_at,
    };
  },
});
