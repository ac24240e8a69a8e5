import { basicPair } from '../auth.js';
import { forbidden, notFound, TokenEndpointError } from '../errors.js';
import { created, ok, pathParam } from '../http.js';
import { validateRequestBody } from '../openapi.js';
import { presentClient, presentUser } from '../present.js';
import type { ApiRouter, HandlerInput } from '../router.js';
import { withOffset } from '../timestamps.js';
import type { ClientRecord, TokenSubject, World } from '../world.js';

/** A JWT-looking opaque string: clients must not depend on its contents, but may peek at `exp`. */
function jwtLike(world: World, claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'RS256', kid: 'simulator', typ: 'JWT' })}.${part(claims)}.${world.ids.base64url(32)}`;
}

function issueToken(input: HandlerInput, subject: TokenSubject, sub: string) {
  const { world, runtime } = input;
  const now = world.now();
  const ttl = runtime.options.tokenTtlSeconds;
  const expiresAt = now + ttl * 1000;
  const claims = {
    iss: 'acronis-simulator',
    sub,
    iat: Math.floor(now / 1000),
    exp: Math.floor(expiresAt / 1000),
    jti: world.ids.uuid(),
  };
  const accessToken = jwtLike(world, claims);
  world.tokens.set(accessToken, { subject, issuedAt: now, expiresAt, generation: world.tokenGeneration });
  runtime.stats.tokenIssued();
  return {
    access_token: accessToken,
    token_type: 'bearer',
    id_token: jwtLike(world, { ...claims, jti: world.ids.uuid() }),
    expires_in: ttl,
    expires_on: Math.floor(expiresAt / 1000),
  };
}

/**
 * POST /idp/token, client_credentials only (docs/acronis-api.md §2.2). Credentials come from a
 * Basic header or from client_id/client_secret in the form; either is accepted whatever the
 * client's token_endpoint_auth_method. Errors use the IdP's OAuth body, not errorScheme.
 */
function requestToken(input: HandlerInput) {
  const form = (input.body ?? {}) as Record<string, string | undefined>;
  const problems = validateRequestBody('POST /idp/token', form);
  if (problems.length > 0) throw new TokenEndpointError(400, 'invalid_request', problems.join('; '));
  if (form.grant_type !== 'client_credentials') {
    throw new TokenEndpointError(
      400,
      'invalid_request',
      `grant_type "${form.grant_type}" is not supported by the simulator`,
    );
  }
  const pair =
    basicPair(input.request.headers.authorization) ??
    (form.client_id ? { id: form.client_id, secret: form.client_secret ?? '' } : null);
  if (!pair) throw new TokenEndpointError(401, 'invalid_client', 'Client authentication failed: no client credentials');
  const client = input.world.clients.get(pair.id);
  // SW's mock of a bad secret (docs/acronis-api.md §2.2): 401 `invalid_client`.
  if (!client || client.secret !== pair.secret)
    throw new TokenEndpointError(401, 'invalid_client', 'invalid client credentials');
  if (client.status !== 'enabled' || !input.world.isEffectivelyEnabled(client.tenantId)) {
    throw new TokenEndpointError(401, 'invalid_client', 'the client is disabled');
  }
  client.lastAccessAt = input.world.now();
  client.lastAccessFromIp = input.request.ip;
  return ok(issueToken(input, { kind: 'client', clientId: client.clientId }, client.clientId));
}

/** POST /clients: Basic user auth for the one-time bootstrap, or a bearer token (§2.1). */
function createClient({ world, caller, body }: HandlerInput) {
  const input = body as {
    type: ClientRecord['type'];
    tenant_id: string;
    token_endpoint_auth_method: ClientRecord['tokenEndpointAuthMethod'];
    data?: Record<string, unknown>;
    redirect_uris?: string[];
    origin_id?: string;
  };
  world.visibleTenant(caller, input.tenant_id);
  const client = world.addClient(
    {
      tenantId: input.tenant_id,
      type: input.type,
      tokenEndpointAuthMethod: input.token_endpoint_auth_method,
      data: input.data ?? {},
      redirectUris: input.redirect_uris ?? null,
      originId: input.origin_id ?? null,
    },
    caller.kind === 'user' ? caller.userId : caller.clientId,
    world.now(),
  );
  const { last_access_at: _lastAccessAt, last_access_from_ip: _lastAccessFromIp, ...rest } = presentClient(client);
  // The secret is returned here and never again.
  return created({ ...rest, client_secret: client.secret, registration_access_token: client.registrationAccessToken });
}

function fetchClient(input: HandlerInput) {
  const clientId = pathParam(input.request, 'client_id');
  const client = input.world.clients.get(clientId);
  if (!client) throw notFound(`Client "${clientId}" not found`);
  if (!input.world.isInSubtree(client.tenantId, input.caller.tenantId))
    throw forbidden(`Client "${clientId}" is outside the caller's hierarchy`);
  return ok(presentClient(client));
}

/** GET /users/me: for users (Basic or their token); API clients use GET /clients/{id} (§2.4). */
function fetchMe({ world, caller }: HandlerInput) {
  if (caller.kind !== 'user')
    throw forbidden('GET /users/me needs a user; an API client should call GET /clients/{client_id}');
  const user = world.users.get(caller.userId);
  const tenant = world.tenants.get(caller.tenantId);
  if (!user || !tenant) throw notFound('User not found');
  return ok({
    ...presentUser(user),
    access_policies: (world.accessPolicies.get(user.id) ?? []).map((p) => ({
      id: p.id,
      version: p.version,
      created_at: withOffset(p.createdAt),
      updated_at: withOffset(p.updatedAt),
      deleted_at: null,
      trustee_id: p.trusteeId,
      trustee_type: p.trusteeType,
      issuer_id: p.issuerId,
      tenant_id: p.tenantId,
      role_id: p.roleId,
    })),
    origin_id: null,
    origin_external_id: null,
    disable_after: null,
    tenant_kind: tenant.kind,
    tenant_pricing_model: world.pricing.get(tenant.id)?.mode ?? 'production',
    brand_id: tenant.brandUuid,
  });
}

export function registerAuthRoutes(router: ApiRouter): void {
  router.add('POST /idp/token', requestToken, { validateBody: false });
  router.add('POST /clients', createClient);
  router.add('GET /clients/{client_id}', fetchClient);
  router.add('GET /users/me', fetchMe);
}
