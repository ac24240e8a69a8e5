import { chainDataWith } from '../chain.js';
import { generatePassword } from '../password.js';
import { defineStep } from '../step.js';

/**
 * activate-user: by e-mail (the admin sets a password), by a password we set (kept sealed
 * for the results), or not at all. An activated user is left alone.
 */
export const activateUser = defineStep({
  name: 'activate-user',
  input: chainDataWith('userId'),
  async run({ request, profile, facts }, ctx) {
    const activation = request.activation ?? profile.activation;
    if (activation === 'none') return { activation: 'not-requested' as const };

    // The password is sealed into the job before it is set: a crash after the API took it
    // must not leave an activated user whose password nobody kept.
    let passwordSealed = facts.passwordSealed;
    if (activation === 'password' && !passwordSealed) {
      passwordSealed = request.password_sealed ?? ctx.secrets.seal(generatePassword(), 'password');
      await ctx.checkpoint({ passwordSealed });
    }

    const user = await ctx.acronis.getUser(facts.userId);
    if (user.activated) {
      await ctx.log('user already activated');
      return { activation: 'already-activated' as const, ...(passwordSealed ? { passwordSealed } : {}) };
    }
    if (activation === 'email') {
      await ctx.acronis.sendActivationEmail(facts.userId);
      await ctx.log(`activation e-mail queued for ${request.email}`);
      return { activation: 'email-sent' as const };
    }
    await ctx.acronis.setUserPassword(facts.userId, ctx.secrets.open(passwordSealed as string, 'password'));
    await ctx.log('password set; user activated');
    return { activation: 'password-set' as const, passwordSealed };
  },
});
