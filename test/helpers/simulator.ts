/* eslint-disable @typescript-eslint/no-explicit-any -- tests read API bodies loosely; the OAS validation checks their shape */
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.js';

/**
 * A simulator for one test file: 127.0.0.1 on a free port. Call `close()` in afterAll.
 * Ids and secrets are random unless `seed` is given: test files share one Redis, and two
 * simulators with the same seed would issue the same client ids and tokens.
 */
export async function startTestSimulator(options: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  return startSimulator({ ...options, port: 0, host: '127.0.0.1' });
}

/** Alias under the name the brief uses. */
export const withSimulator = startTestSimulator;

export type { RunningSimulator };

/** POST /idp/token at `baseUrl` with an API client's id and secret (client_credentials, Basic). */
export function requestToken(baseUrl: string, clientId: string, secret: string): Promise<Response> {
  return fetch(`${baseUrl}/api/2/idp/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'grant_type=client_credentials',
  });
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface CallOptions {
  body?: unknown;
  /** Raw body text, sent as is (with `contentType`). */
  raw?: string;
  /** Default application/json when a body is given. */
  contentType?: string | null;
  /** Replaces the bearer token; null sends no Authorization header. */
  authorization?: string | null;
}

/**
 * A tiny client for tests that speak to the simulator as an HTTP client would: it gets a
 * token with the seeded API client (client_credentials, Basic) and sends JSON.
 */
export function simulatorApi(sim: Pick<RunningSimulator, 'url' | 'seed'>) {
  // One token for concurrent callers: a promise, so a burst issues it once.
  let token: Promise<string> | null = null;
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  async function send<T = any>(method: string, path: string, options: CallOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = {};
    const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
    const contentType =
      options.contentType === undefined ? (body !== undefined ? 'application/json' : null) : options.contentType;
    if (contentType) headers['content-type'] = contentType;
    if (options.authorization !== null) {
      headers.authorization = options.authorization ?? `Bearer ${await (token ??= issueToken())}`;
    }
    const response = await fetch(`${sim.url}/api/2${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed as T, text };
  }

  async function issueToken(clientId = sim.seed.clientId, clientSecret = sim.seed.clientSecret): Promise<string> {
    const response = await fetch(`${sim.url}/api/2/idp/token`, {
      method: 'POST',
      headers: { authorization: basic(clientId, clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    });
    if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  return {
    send,
    issueToken,
    basic,
    get: <T = any>(path: string, options?: CallOptions) => send<T>('GET', path, options),
    post: <T = any>(path: string, body?: unknown, options?: CallOptions) => send<T>('POST', path, { ...options, body }),
    put: <T = any>(path: string, body?: unknown, options?: CallOptions) => send<T>('PUT', path, { ...options, body }),
    delete: <T = any>(path: string, options?: CallOptions) => send<T>('DELETE', path, options),
    /** Forget the cached token (the next call issues a new one). */
    dropToken: () => {
      token = null;
    },
  };
}

export type SimulatorApi = ReturnType<typeof simulatorApi>;

/** Someone else's customer tenant with an admin holding `login`: a customer asking for that login conflicts. */
export async function loginTakenElsewhere(
  sim: Pick<RunningSimulator, 'url' | 'seed'>,
  login: string,
  tenantName: string,
): Promise<void> {
  const api = simulatorApi(sim);
  const other = await api.post('/tenants', { name: tenantName, parent_id: sim.seed.partnerTenantId, kind: 'customer' });
  const user = await api.post('/users', { tenant_id: other.body.id, login, contact: { email: 'x@else.example' } });
  if (other.status !== 201 || user.status !== 200)
    throw new Error(`could not take ${login}: ${other.status}, ${user.status}`);
}

/**
 * Follows a listing's cursors to its last page, sending only the (URL-encoded) `after` that
 * `next` puts in a path; `between` runs after each page but the last. Every item, and the pages.
 */
export async function walkPages<T = any>(
  api: SimulatorApi,
  first: string,
  next: (after: string) => string,
  between?: (pages: number) => Promise<unknown>,
): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let res = await api.get(first);
  for (let pages = 1; ; pages++) {
    if (res.status !== 200) throw new Error(`page ${pages} of ${first}: ${res.status} ${res.text}`);
    items.push(...(res.body.items as T[]));
    const after = res.body.paging?.cursors?.after as string | undefined;
    if (!after) return { items, pages };
    await between?.(pages);
    res = await api.get(next(encodeURIComponent(after)));
  }
}

/** Reads a /__sim endpoint. */
export async function simGet<T = any>(sim: Pick<RunningSimulator, 'url'>, path: string): Promise<T> {
  const response = await fetch(`${sim.url}/__sim${path}`);
  return (await response.json()) as T;
}
