import { z } from 'zod';
import { acronisTimestamp } from './timestamps.js';
import type { AcronisTransport } from './transport.js';

/** `token` (OAS): `expires_on` is unix seconds, `expires_in` seconds; either may be absent (docs/acronis-api.md §2.2). */
export const tokenSchema = z.object({
  access_token: z.string().min(1),
  token_type: z.string(),
  id_token: z.string().optional(),
  expires_in: z.number().int().optional(),
  expires_on: z.number().int().optional(),
});

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

export interface IssuedAccessToken {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

/** The documented lifetime when the answer states none (docs/acronis-api.md §2.2: 2 h). */
const DEFAULT_TOKEN_TTL_MS = 2 * 60 * 60 * 1000;

/** Where access tokens are issued; the one request sent with the client secret rather than a token. */
export const TOKEN_PATH = '/idp/token';

/** POST /idp/token, client_credentials grant with HTTP Basic client authentication. */
export async function issueToken(
  api: AcronisTransport,
  credentials: ClientCredentials,
  signal?: AbortSignal,
): Promise<IssuedAccessToken> {
  const requestedAt = Date.now();
  const token = await api.json(
    {
      method: 'POST',
      path: TOKEN_PATH,
      form: { grant_type: 'client_credentials' },
      auth: { type: 'basic', username: credentials.clientId, password: credentials.clientSecret },
      signal,
    },
    tokenSchema,
  );
  // Prefer the relative lifetime: it does not depend on our clock agreeing with the server's.
  const expiresAt =
    token.expires_in !== undefined
      ? requestedAt + token.expires_in * 1000
      : token.expires_on !== undefined
        ? token.expires_on * 1000
        : requestedAt + DEFAULT_TOKEN_TTL_MS;
  return { accessToken: token.access_token, expiresAt };
}

export const apiClientSchema = z.object({
  client_id: z.string(),
  tenant_id: z.string(),
  type: z.string(),
  token_endpoint_auth_method: z.string().optional(),
  status: z.string().optional(),
  created_at: acronisTimestamp.nullish(),
  data: z.record(z.string(), z.unknown()).optional(),
});
export type ApiClient = z.infer<typeof apiClientSchema>;

/** GET /clients/{client_id}: how a client-credentials integration learns its own tenant (docs/acronis-api.md §2.1). */
export async function getApiClient(api: AcronisTransport, clientId: string): Promise<ApiClient> {
  return api.json({ method: 'GET', path: `/clients/${encodeURIComponent(clientId)}` }, apiClientSchema);
}

export const createdApiClientSchema = apiClientSchema.extend({ client_secret: z.string().min(1) });
export type CreatedApiClient = z.infer<typeof createdApiClientSchema>;

export interface CreateApiClientInput {
  tenantId: string;
  clientName: string;
  /** A user's login and password (one-time bootstrap, docs/acronis-api.md §2.1). */
  login: string;
  password: string;
}

/** POST /clients with Basic auth of a user: the only answer that carries the client secret. */
export async function createApiClient(api: AcronisTransport, input: CreateApiClientInput): Promise<CreatedApiClient> {
  return api.json(
    {
      method: 'POST',
      path: '/clients',
      auth: { type: 'basic', username: input.login, password: input.password },
      // clientPost is additionalProperties:false: only these keys.
      json: {
        type: 'api_client',
        tenant_id: input.tenantId,
        token_endpoint_auth_method: 'client_secret_basic',
        data: { client_name: input.clientName },
      },
    },
    createdApiClientSchema,
  );
}

export const currentUserSchema = z.object({ id: z.string(), login: z.string(), tenant_id: z.string() });
export type CurrentUser = z.infer<typeof currentUserSchema>;

/** GET /users/me with a user's Basic auth: who the login is and which tenant it belongs to (docs/acronis-api.md §2.4). */
export async function getCurrentUser(
  api: AcronisTransport,
  credentials: { login: string; password: string },
): Promise<CurrentUser> {
  const auth = { type: 'basic' as const, username: credentials.login, password: credentials.password };
  return api.json({ method: 'GET', path: '/users/me', auth }, currentUserSchema);
}
