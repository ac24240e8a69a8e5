import { certainlyNotApplied } from '../../acronis/errors.js';
import { chainDataWith } from '../chain.js';
import { generatePassword } from '../password.js';
import { defineStep, type StepContext } from '../step.js';

/**
 * activate-user: by e-mail (the admin sets a password), by a password we set (kept sealed
 * for the results), or not at all. A user this chain just created is not activated, so the
 * request goes straight out; a reused user, or a re-run that finds the intent, is read first
 * and left alone when activated (a second e-mail or a reset password would surprise its owner).
 *
 * The e-mail is sent at most once: a user stays unactivated after it until they follow the link,
 * so a re-run after a lost answer cannot tell "sent" from "not sent" (docs/acronis-api.md §6.4).
 * It records `email-unconfirmed` instead of sending a second one; the results and the customer's
 * timeline say so, and an operator resends if the customer got nothing. A send the API certainly
 * did not carry out (no token, 429, no connection) takes its intent back, so the retry sends it.
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
    // The intent is recorded right before the request it announces, so a failure before it (reading
    // the user, say) leaves none behind and the retry still sends.
    const earlier = facts.intents?.activation !== undefined;
    if ((earlier || facts.userCreated !== true) && (await ctx.acronis.getUser(facts.userId)).activated) {
      await ctx.log('user already activated');
      return { activation: 'already-activated' as const, ...(passwordSealed ? { passwordSealed } : {}) };
    }
    if (activation === 'email') return sendEmailOnce(facts.userId, request.email, earlier, ctx);
    await ctx.intend('activation', { passwordSealed });
    await ctx.acronis.setUserPassword(facts.userId, ctx.secrets.open(passwordSealed as string, 'password'));
    await ctx.log('password set; user activated');
    return { activation: 'password-set' as const, passwordSealed };
  },
});

async function sendEmailOnce(userId: string, email: string, earlier: boolean, ctx: StepContext) {
  if (earlier) {
    await ctx.log('activation e-mail may have been sent by an earlier attempt whose answer was lost; not sent again');
    return { activation: 'email-unconfirmed' as const };
  }
  // Written once the send's slot is due, and only while the job is still this run's: a run cut off
  // before the send leaves no intent, so the re-run sends.
  await ctx
    .intendAtSend('activation', () => ctx.acronis.sendActivationEmail(userId))
    .catch(async (err: unknown) => {
      // Nothing went out (no token, a 429, no connection): the next attempt may send it.
      if (certainlyNotApplied(err)) await ctx.withdraw('activation');
      throw err;
    });
  await ctx.log(`activation e-mail queued for ${email}`);
  return { activation: 'email-sent' as const };
}
