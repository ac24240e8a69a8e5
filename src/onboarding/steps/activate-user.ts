import { chainDataWith } from '../chain.js';
import { generatePassword } from '../password.js';
import { defineStep } from '../step.js';

/**
 * activate-user: by e-mail (the admin sets a password), by a password we set (kept sealed
 * for the results), or not at all. A user this chain just created is not activated, so the
 * request goes straight out; a reused user, or a re-run that finds the intent, is read first
 * and left alone when activated (a second e-mail or a reset password would surprise its owner).
 */
export const activateUser = defineStep({
  name: 'activate-user',
  input: chainDataWith('userId'),
  async run({ request, profile, facts }, ctx) {
    const activation = request.activation ?? profile.activation;
    if (activation === 'none') return { activation: 'not-requested' as const };

    // The password is sealed into the job with the intent, before it is set: a crash after
    // the API took it must not leave an activated user whose password nobody kept.
    const passwordSealed =
      facts.passwordSealed ??
      (activation === 'password'
        ? (request.password_sealed ?? ctx.secrets.seal(generatePassword(), 'password'))
        : undefined);
    const earlier = await ctx.intend('activation', passwordSealed ? { passwordSealed } : {});
    if ((earlier || facts.userCreated !== true) && (await ctx.acronis.getUser(facts.userId)).activated) {
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
