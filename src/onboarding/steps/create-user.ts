import type { AcronisEndpoints } from '../../acronis/client.js';
import { AcronisApiError } from '../../acronis/errors.js';
import type { User } from '../../acronis/users.js';
import { chainDataWith } from '../chain.js';
import { loginOf } from '../customer-request.js';
import { StepConflictError } from '../errors.js';
import { defineStep } from '../step.js';
import { contactOf } from './contact.js';

/**
 * create-user: logins are unique across the whole platform (docs/acronis-api.md §6.1). The
 * intent is recorded before the POST; only a re-run that finds it looks among the tenant's
 * users first. Otherwise the POST goes straight out, and "login taken" (409) is the cue to look:
 * our own user (a re-import, a replaced chain) is reused, anyone else's is an error naming the owner.
 */
export const createUser = defineStep({
  name: 'create-user',
  input: chainDataWith('tenantId'),
  async run({ customerKey, partnerTenantId, request, facts }, ctx) {
    const login = loginOf(request);
    const who = { customerKey, partnerTenantId, login };
    if (await ctx.intend('user')) {
      const made = await ownUser(ctx.acronis, facts.tenantId, login);
      if (made) return reused(made, true);
    }
    try {
      const user = await ctx.acronis.createUser({
        tenant_id: facts.tenantId,
        login,
        contact: contactOf(request),
        ...(request.language ? { language: request.language } : {}),
      });
      await ctx.log(`created user ${user.id} (${login})`);
      return { userId: user.id, userCreated: true, login, personalTenantId: user.personal_tenant_id ?? null };
    } catch (err) {
      if (!(err instanceof AcronisApiError && err.status === 409)) throw err;
      const ours = await ownUser(ctx.acronis, facts.tenantId, login);
      if (ours) return reused(ours, false);
      throw new StepConflictError(customerKey, 'login', login, await loginOwner(ctx.acronis, who));
    }
  },
});

/** The tenant's user with this login: the tenant's user ids, then each user (a customer tenant holds few). */
async function ownUser(
  acronis: Pick<AcronisEndpoints, 'listTenantUserIds' | 'getUser'>,
  tenantId: string,
  login: string,
): Promise<User | undefined> {
  for (const userId of await acronis.listTenantUserIds(tenantId)) {
    const user = await acronis.getUser(userId);
    if (user.login.toLowerCase() === login.toLowerCase() && !user.deleted_at) return user;
  }
  return undefined;
}

/** `ours`: an earlier attempt of this chain made the user (its answer was lost); else it predates the chain. */
function reused(user: User, ours: boolean) {
  return {
    userId: user.id,
    userCreated: ours,
    login: user.login,
    personalTenantId: user.personal_tenant_id ?? null,
  };
}

/** Names the owner when the login lives in our part of the hierarchy; the platform hides the rest. */
async function loginOwner(
  acronis: Pick<AcronisEndpoints, 'search'>,
  who: { partnerTenantId: string; login: string },
): Promise<string> {
  const hits = await acronis.search({ tenantId: who.partnerTenantId, text: who.login, limit: 50 });
  const hit = hits.find((h) => h.obj_type === 'user' && h.login?.toLowerCase() === who.login.toLowerCase());
  if (!hit) return 'an account outside this partner tenant (logins are unique across the whole platform)';
  const where = hit.path && hit.path.length > 0 ? hit.path.join(' / ') : `tenant ${hit.parent_id ?? '?'}`;
  return `a user of another tenant (${where})`;
}
