import { chainDataWith } from '../chain.js';
import { defineStep } from '../step.js';

/**
 * finish: the chain's last job. The worker records the customer as onboarded and counts it
 * in its batch when this step completes; the step itself checks that every fact the result
 * needs is there, so an incomplete chain fails here rather than reporting success.
 */
export const finish = defineStep({
  name: 'finish',
  input: chainDataWith('tenantId', 'userId', 'login', 'tokenSealed', 'tokenExpiresAt'),
  async run({ facts }, ctx) {
    await ctx.log(`onboarded: tenant ${facts.tenantId}, user ${facts.login}`);
    return {};
  },
});
