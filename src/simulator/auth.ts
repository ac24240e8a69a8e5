import type { FastifyRequest } from 'fastify';
import { unauthorized } from './errors.js';
import { hashPassword, type Caller, type World } from './world.js';

/**
 * Who is calling: a bearer token, or Basic user login:password where the OAS allows `basicAuth`
 * (docs/acronis-api.md §2.1). Every failure is a 401 with errorScheme (§2.3).
 */
export function authenticate(request: FastifyRequest, world: World, allowBasic: boolean): Caller {
  const header = request.headers.authorization;
  if (!header) throw unauthorized('The Authorization header is missing');
  const space = header.indexOf(' ');
  const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
  const credentials = space < 0 ? '' : header.slice(space + 1).trim();

  if (scheme === 'bearer') return bearerCaller(world, credentials);
  if (scheme === 'basic') {
    if (!allowBasic) throw unauthorized('This endpoint accepts only bearer tokens');
    return basicCaller(world, credentials);
  }
  throw unauthorized(`Unsupported authorization scheme "${scheme}"`);
}

function bearerCaller(world: World, accessToken: string): Caller {
  const token = world.tokens.get(accessToken);
  if (!token) throw unauthorized('Invalid access token');
  if (token.generation < world.tokenGeneration) throw unauthorized('The access token has been revoked');
  if (world.now() >= token.expiresAt) throw unauthorized('The access token has expired');
  if (token.subject.kind === 'client') {
    const client = world.clients.get(token.subject.clientId);
    if (!client || client.status !== 'enabled' || !world.isEffectivelyEnabled(client.tenantId)) {
      throw unauthorized('The API client is disabled');
    }
    return { kind: 'client', clientId: client.clientId, tenantId: client.tenantId };
  }
  const user = world.users.get(token.subject.userId);
  if (!user || !user.enabled || user.deletedAt !== null || !world.isEffectivelyEnabled(user.tenantId)) {
    throw unauthorized('The user is disabled');
  }
  return { kind: 'user', userId: user.id, tenantId: user.tenantId };
}

function basicCaller(world: World, encoded: string): Caller {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw unauthorized('Malformed Basic credentials');
  const user = world.userByLogin(decoded.slice(0, colon));
  if (!user || user.passwordHash === null || user.passwordHash !== hashPassword(decoded.slice(colon + 1))) {
    throw unauthorized('Invalid login or password');
  }
  if (!user.enabled || !world.isEffectivelyEnabled(user.tenantId)) throw unauthorized('The user is disabled');
  return { kind: 'user', userId: user.id, tenantId: user.tenantId };
}

/** client_id:client_secret from a Basic header, for POST /idp/token. */
export function basicPair(header: string | undefined): { id: string; secret: string } | null {
  if (!header || !/^basic /i.test(header)) return null;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return null;
  return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
}

// RFC 6749 §2.3.1: the pair is form-encoded before base64; plain ids and hex secrets pass through.
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
