import { backupAgentAdminScope } from '../../acronis/registration-tokens.js';
import { chainDataWith } from '../chain.js';
import { defineStep } from '../step.js';

/** How much earlier than our intent the API's clock may date a token an attempt created. */
const CLOCK_SKEW_MS = 60_000;

/**
 * create-agent-token: a registration token binding machines to the admin through the
 * personal tenant (docs/acronis-api.md §7). Tokens have no unique name the API could refuse a
 * second time, so the intent is what prevents a second one: a re-run that finds it reuses the
 * token an earlier attempt created since.
 */
export const createAgentToken = defineStep({
  name: 'create-agent-token',
  input: chainDataWith('tenantId', 'userId'),
  async run({ profile, facts }, ctx) {
    const scope = backupAgentAdminScope(facts.personalTenantId ?? facts.tenantId);
    const earlier = await ctx.intend('agent-token');
    if (earlier) {
      const since = earlier.getTime() - CLOCK_SKEW_MS;
      const made = (await ctx.acronis.listRegistrationTokens(facts.tenantId)).find(
        (t) => t.scopes.includes(scope) && Date.parse(t.created_at) >= since && Date.parse(t.expires_at) > Date.now(),
      );
      if (made) {
        await ctx.log(`reusing registration token ${made.id} created by an earlier attempt`);
        return {
          tokenId: made.id,
          tokenSealed: ctx.secrets.seal(made.token, 'registration_token'),
          tokenExpiresAt: made.expires_at,
        };
      }
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
