import type { AcronisEndpoints } from '../../acronis/client.js';
import { AcronisApiError } from '../../acronis/errors.js';
import type { User } from '../../acronis/users.js';
import { chainDataWith } from '../chain.js';
import { loginOf } from '../customer-request.js';
import { StepConflictError } from '../errors.js';
import { defineStep } from '../step.js';
import { contactOf } from './contact.js';

/**
 * create-user: logins are unique across the whole platform (docs/acronis-api.md §6.1), so a free
 * login is created in the customer's tenant; a taken one is either our own user (a retry
 * after the API committed, or a re-import) and reused, or someone else's and an error that
 * names the owner.
 */
export const createUser = defineStep({
  name: 'create-user',
  input: chainDataWith('tenantId'),
  async run({ customerKey, partnerTenantId, request, facts }, ctx) {
    const login = loginOf(request);
    if ((await ctx.acronis.checkLogin(login)) === 'taken') {
      return reuse(await ownUser(ctx.acronis, facts.tenantId, login), ctx.acronis, {
        customerKey,
        partnerTenantId,
        login,
      });
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
      // Taken between check_login and POST: ours (a concurrent run of this step) or not.
      if (err instanceof AcronisApiError && err.status === 409) {
        return reuse(await ownUser(ctx.acronis, facts.tenantId, login), ctx.acronis, {
          customerKey,
          partnerTenantId,
          login,
        });
      }
      throw err;
    }
  },
});

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

async function reuse(
  user: User | undefined,
  acronis: Pick<AcronisEndpoints, 'search'>,
  who: { customerKey: string; partnerTenantId: string; login: string },
) {
  if (user)
    return {
      userId: user.id,
      userCreated: false,
      login: user.login,
      personalTenantId: user.personal_tenant_id ?? null,
    };
  throw new StepConflictError(
    who.customerKey,
    'login',
    who.login,
    await loginOwner(acronis, who.partnerTenantId, who.login),
  );
}

/** Names the owner when the login lives in our part of the hierarchy; the platform hides the rest. */
async function loginOwner(
  acronis: Pick<AcronisEndpoints, 'search'>,
  partnerTenantId: string,
  login: string,
): Promise<string> {
  const hits = await acronis.search({ tenantId: partnerTenantId, text: login, limit: 50 });
  const hit = hits.find((h) => h.obj_type === 'user' && h.login?.toLowerCase() === login.toLowerCase());
  if (!hit) return 'an account outside this partner tenant (logins are unique across the whole platform)';
  const where = hit.path && hit.path.length > 0 ? hit.path.join(' / ') : `tenant ${hit.parent_id ?? '?'}`;
  return `a user of another tenant (${where})`;
}
