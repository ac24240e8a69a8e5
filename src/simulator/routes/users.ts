import { badRequest, forbidden, httpError, PlatformCode, SimError, versionMismatch } from '../errors.js';
import { noContent, ok, pathParam, Query } from '../http.js';
import { presentPolicy, presentUser } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { zuluMillis } from '../timestamps.js';
import type { UserRecord } from '../records.js';
import { hashPassword, type AccessPolicyRecord } from '../world.js';

/**
 * At least 3 characters of ASCII letters, digits and `.@_-+:!#$%^*={}'`/?` (an e-mail
 * address is fine) — DOC/acct/users/creating-user via docs/acronis-api.md §6.1.
 */
const LOGIN = /^[A-Za-z0-9.@_\-+:!#$%^*={}'`/?]{3,255}$/;

export function isValidLogin(login: string): boolean {
  return LOGIN.test(login);
}

function loginTaken(login: string): SimError {
  return new SimError(409, 409, 'Conflict', `Login "${login}" is already in use`);
}

/** GET /users/check_login: 204 free, 409 taken (platform-wide, any case), 406 malformed. */
function checkLogin({ world, request }: HandlerInput) {
  const username = new Query(request).string('username');
  if (username === undefined) throw badRequest("'username' is required");
  if (!isValidLogin(username)) throw httpError(406, `Login "${username}" is not acceptable`);
  if (world.userByLogin(username)) throw loginTaken(username);
  return noContent();
}

interface UserPostBody {
  tenant_id: string;
  login?: string;
  external_id?: string;
  idp_id?: string;
  contact: Record<string, unknown> & { email: string };
  enabled?: boolean;
  language?: string;
  business_types?: string[];
  notifications?: string[];
}

/**
 * POST /users → 200 (not 201). Users created in a customer tenant or below get a personal
 * tenant (kind unit, owner_id = the user) that carries their quotas (docs/acronis-api.md §6.2).
 */
function createUser({ world, caller, body }: HandlerInput) {
  const input = body as UserPostBody;
  // The OAS leaves `login` optional; DOC marks it required.
  if (input.login === undefined) throw badRequest("body must have required property 'login'");
  if (!isValidLogin(input.login))
    throw new SimError(400, PlatformCode.invalidLogin, 'Invalid login', `Login "${input.login}" is invalid`);
  const tenant = world.visibleTenant(caller, input.tenant_id);
  if (world.userByLogin(input.login)) throw loginTaken(input.login);

  const now = world.now();
  const user = world.addUser(
    { tenantId: tenant.id, login: input.login, email: input.contact.email, contactFields: input.contact },
    now,
  );
  if (input.enabled !== undefined) user.enabled = input.enabled;
  if (input.language !== undefined) user.language = input.language;
  if (input.business_types !== undefined) user.businessTypes = input.business_types;
  if (input.notifications !== undefined) user.notifications = input.notifications;
  if (input.external_id !== undefined) user.externalId = input.external_id;
  if (input.idp_id !== undefined) user.idpId = input.idp_id;
  if (tenant.kind === 'customer' || tenant.kind === 'unit') {
    const personal = world.addTenant(
      { name: user.login, kind: 'unit', parentId: tenant.id, ownerId: user.id, language: user.language },
      now,
    );
    user.personalTenantId = personal.id;
  }
  return ok(presentUser(user));
}

function fetchUser({ world, caller, request }: HandlerInput) {
  const allowDeleted = new Query(request).bool('allow_deleted');
  return ok(presentUser(world.visibleUser(caller, pathParam(request, 'user_id'), { allowDeleted })));
}

function listTenantUsers({ world, caller, request }: HandlerInput) {
  const query = new Query(request);
  const allowDeleted = query.bool('allow_deleted');
  const tenant = world.visibleTenant(caller, pathParam(request, 'tenant_id'));
  const tenantIds = new Set(
    query.bool('include_grand_children') ? world.subtree(tenant.id, allowDeleted).map((s) => s.tenant.id) : [tenant.id],
  );
  const users = [...world.users.values()].filter(
    (u) => tenantIds.has(u.tenantId) && (allowDeleted || u.deletedAt === null),
  );
  return ok({ items: users.map((u) => u.id) });
}

/** OAS `userPut` (additionalProperties:false, checked by the router): `version` required, the rest a partial update. */
interface UserPutBody {
  version: number;
  login?: string;
  external_id?: string;
  idp_id?: string;
  contact?: Record<string, unknown>;
  enabled?: boolean;
  language?: string;
  notifications?: string[];
  disable_after?: string;
}

/** A new login is checked as on POST /users: its form (1033) and platform-wide uniqueness (409). */
function assertLoginChange(world: HandlerInput['world'], user: UserRecord, login: string): void {
  if (login.toLowerCase() === user.login.toLowerCase()) return;
  if (!isValidLogin(login))
    throw new SimError(400, PlatformCode.invalidLogin, 'Invalid login', `Login "${login}" is invalid`);
  if (world.userByLogin(login)) throw loginTaken(login);
}

/**
 * The contact's fields merged in. contactPut may name whose contact it is (`user_id`,
 * `tenant_id`): another user's or tenant's is refused. An activated user's new e-mail is not
 * applied: the platform sends a confirmation link to the old address and changes the e-mail when
 * it is opened (https://developer.acronis.com/doc/account-management/v2/guide/users/changing-email).
 */
function applyContact(user: UserRecord, contact: Record<string, unknown>, now: number): void {
  const { email, user_id: userId, tenant_id: tenantId, ...fields } = contact;
  if (userId !== undefined && userId !== user.id)
    throw badRequest(`'contact.user_id' must be the user's id ${user.id}`);
  if (tenantId !== undefined && tenantId !== user.tenantId)
    throw badRequest(`'contact.tenant_id' must be the user's tenant ${user.tenantId}`);
  user.contact.fields = { ...user.contact.fields, ...fields };
  if (typeof email === 'string' && email !== user.contact.fields.email) {
    if (user.activated) {
      user.pendingEmail = email;
      user.emailChangeLinksSent++;
    } else {
      user.contact.fields.email = email;
    }
  }
  user.contact.updatedAt = now;
}

/**
 * PUT /users/{id} (OAS `UpdateUser`): a partial update with the user's `version`, a small
 * integer growing by one per change; a stale one is 409/1001 (docs/acronis-api.md §6.2).
 */
function updateUser({ world, caller, request, body }: HandlerInput) {
  const user = world.visibleUser(caller, pathParam(request, 'user_id'));
  const input = body as UserPutBody;
  if (input.version !== user.version) throw versionMismatch(user.version, input.version);
  if (input.login !== undefined) assertLoginChange(world, user, input.login);
  const now = world.now();
  if (input.login !== undefined) user.login = input.login;
  if (input.contact !== undefined) applyContact(user, input.contact, now);
  if (input.enabled !== undefined) user.enabled = input.enabled;
  if (input.language !== undefined) user.language = input.language;
  if (input.notifications !== undefined) user.notifications = input.notifications;
  if (input.external_id !== undefined) user.externalId = input.external_id;
  if (input.idp_id !== undefined) user.idpId = input.idp_id;
  user.version += 1;
  user.updatedAt = now;
  return ok(presentUser(user));
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

interface PolicyPut {
  id: string;
  issuer_id: string;
  version: number;
  trustee_type: string;
  trustee_id: string;
  tenant_id: string;
  role_id: string;
}

/**
 * PUT /users/{id}/access_policies replaces the whole role set (docs/acronis-api.md §6.3), with the
 * DOC's "the value must be…" rules for each item.
 */
function replacePolicies({ world, caller, request, body }: HandlerInput) {
  const user = world.visibleUser(caller, pathParam(request, 'user_id'));
  const items = (body as { items: PolicyPut[] }).items;
  const problems: string[] = [];
  items.forEach((item, index) => {
    const at = `'items.${index}`;
    if (item.id !== NIL_UUID) problems.push(`${at}.id' must be ${NIL_UUID}`);
    if (item.issuer_id !== NIL_UUID) problems.push(`${at}.issuer_id' must be ${NIL_UUID}`);
    if (item.version !== 0) problems.push(`${at}.version' must be 0`);
    if (item.trustee_type !== 'user') problems.push(`${at}.trustee_type' must be "user"`);
    if (item.trustee_id !== user.id) problems.push(`${at}.trustee_id' must be the user's id ${user.id}`);
    const tenant = world.tenants.get(item.tenant_id);
    if (!tenant || tenant.deletedAt !== null || !world.isInSubtree(tenant.id, user.tenantId)) {
      problems.push(`${at}.tenant_id' must be the user's tenant or one below it`);
    }
  });
  if (problems.length > 0) throw badRequest(problems.join('; '), problems);

  const now = world.now();
  const issuerId = caller.kind === 'user' ? caller.userId : caller.clientId;
  const policies: AccessPolicyRecord[] = items.map((item) => ({
    id: world.ids.uuid(),
    version: 1,
    trusteeId: user.id,
    trusteeType: 'user',
    issuerId,
    tenantId: item.tenant_id,
    roleId: item.role_id,
    createdAt: now,
    updatedAt: now,
  }));
  world.accessPolicies.set(user.id, policies);
  return ok({ timestamp: zuluMillis(now), items: policies.map(presentPolicy) });
}

/** GET /users/{id}/access_policies: the user's roles, as the PUT answers them. */
function fetchPolicies({ world, caller, request }: HandlerInput) {
  const user = world.visibleUser(caller, pathParam(request, 'user_id'));
  const policies = world.accessPolicies.get(user.id) ?? [];
  return ok({ timestamp: zuluMillis(world.now()), items: policies.map(presentPolicy) });
}

/** 204 "Email was successfully queued"; the user stays not activated (docs/acronis-api.md §6.4). */
function sendActivationEmail({ world, caller, request }: HandlerInput) {
  const user = world.visibleUser(caller, pathParam(request, 'user_id'));
  user.activationEmailSentAt = world.now();
  user.activationEmailsSent++;
  return noContent();
}

const COMMON_PASSWORDS = new Set([
  'password',
  'password1',
  'passw0rd',
  '12345678',
  '123456789',
  'qwertyui',
  'qwerty123',
  'iloveyou',
  'admin123',
  'welcome1',
]);

function passwordProblem(password: string, login: string): string | null {
  if (password.length < 8) return 'The password must be at least 8 characters long';
  const classes = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/].filter((re) => re.test(password)).length;
  if (classes < 2 || COMMON_PASSWORDS.has(password.toLowerCase())) return 'The password is too simple';
  if (password.toLowerCase().includes(login.toLowerCase())) return 'The password must not contain the login';
  return null;
}

/**
 * POST /users/{id}/password activates without e-mail, but only for API clients and only for
 * users in sub-tenants of the client's tenant (docs/acronis-api.md §6.4).
 */
function setPassword({ world, caller, request, body }: HandlerInput) {
  const user = world.visibleUser(caller, pathParam(request, 'user_id'));
  if (caller.kind !== 'client') throw forbidden('Only API clients may set a user password');
  if (user.tenantId === caller.tenantId) throw forbidden('Passwords can be set only for users of sub-tenants');
  const password = (body as { password: string }).password;
  const problem = passwordProblem(password, user.login);
  if (problem) throw badRequest(problem);
  user.passwordHash = hashPassword(password);
  user.passwordsSet++;
  user.activated = true;
  user.version++;
  user.updatedAt = world.now();
  return noContent();
}

export function registerUserRoutes(router: ApiRouter): void {
  router.add('GET /users/check_login', checkLogin);
  router.add('POST /users', createUser);
  router.add('GET /users/{user_id}', fetchUser);
  router.add('PUT /users/{user_id}', updateUser);
  router.add('GET /tenants/{tenant_id}/users', listTenantUsers);
  router.add('GET /users/{user_id}/access_policies', fetchPolicies);
  router.add('PUT /users/{user_id}/access_policies', replacePolicies);
  router.add('POST /users/{user_id}/send-activation-email', sendActivationEmail);
  router.add('POST /users/{user_id}/password', setPassword);
}
