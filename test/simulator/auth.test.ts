/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simulatorApi, startTestSimulator, type RunningSimulator, type SimulatorApi } from '../helpers/simulator.js';

let sim: RunningSimulator;
let api: SimulatorApi;

beforeAll(async () => {
  sim = await startTestSimulator();
  api = simulatorApi(sim);
});
afterAll(async () => {
  await sim.close();
});

async function token(body: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${sim.url}/api/2/idp/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as any };
}

describe('POST /idp/token', () => {
  it('issues a bearer token for client credentials in a Basic header and counts it', async () => {
    const before = sim.stats().tokenIssues;
    const { status, body } = await token('grant_type=client_credentials', {
      authorization: api.basic(sim.seed.clientId, sim.seed.clientSecret),
    });
    expect(status).toBe(200);
    expect(body).toMatchObject({ token_type: 'bearer', expires_in: 7200 });
    expect(typeof body.access_token).toBe('string');
    expect(typeof body.id_token).toBe('string');
    const now = Math.floor(Date.now() / 1000);
    expect(body.expires_on).toBeGreaterThanOrEqual(now + 7199);
    expect(body.expires_on).toBeLessThanOrEqual(now + 7201);
    expect(sim.stats().tokenIssues).toBe(before + 1);
  });

  it('accepts client_id and client_secret in the form', async () => {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: sim.seed.clientId,
      client_secret: sim.seed.clientSecret,
    });
    expect((await token(form.toString())).status).toBe(200);
  });

  it('answers 401 invalid_client for a wrong secret, in the IdP error format', async () => {
    const { status, body } = await token('grant_type=client_credentials', {
      authorization: api.basic(sim.seed.clientId, 'wrong'),
    });
    expect(status).toBe(401);
    expect(body.error).toBe('invalid_client');
    expect(typeof body.error_description).toBe('string');
  });

  it('answers 400 invalid_request without grant_type or with an unsupported one', async () => {
    const auth = { authorization: api.basic(sim.seed.clientId, sim.seed.clientSecret) };
    expect(await token('', auth)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
    expect(await token('grant_type=magic', auth)).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('is form-encoded only: JSON is a 415', async () => {
    const response = await fetch(`${sim.url}/api/2/idp/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: api.basic(sim.seed.clientId, sim.seed.clientSecret),
      },
      body: JSON.stringify({ grant_type: 'client_credentials' }),
    });
    expect(response.status).toBe(415);
  });
});

describe('bearer tokens', () => {
  it('answers 401 errorScheme without a token, with a made-up one, and with a Basic header where only bearer is allowed', async () => {
    for (const authorization of [null, 'Bearer nonsense', api.basic(sim.seed.adminLogin, sim.seed.adminPassword)]) {
      const res = await api.get(`/infra?uuids=${sim.seed.infras[0]!.id}`, { authorization });
      expect(res.status).toBe(401);
      expect(res.body.error).toMatchObject({ code: 401, domain: 'PlatformAccountServer', message: 'Unauthorized' });
      expect(res.body.error.details).toHaveProperty('info');
    }
  });

  it('answers 401 after the token lifetime and counts the 401s', async () => {
    const short = await startTestSimulator({ tokenTtlSeconds: 1 });
    try {
      const shortApi = simulatorApi(short);
      expect((await shortApi.get(`/tenants/${short.seed.partnerTenantId}`)).status).toBe(200);
      await sleep(1100);
      const res = await shortApi.get(`/tenants/${short.seed.partnerTenantId}`);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe(401);
      expect(short.stats().unauthorized).toBe(1);
      shortApi.dropToken();
      expect((await shortApi.get(`/tenants/${short.seed.partnerTenantId}`)).status).toBe(200);
    } finally {
      await short.close();
    }
  });

  it('revokeTokens() and POST /__sim/tokens/revoke invalidate every token issued so far', async () => {
    const local = simulatorApi(sim);
    expect((await local.get(`/tenants/${sim.seed.partnerTenantId}`)).status).toBe(200);
    sim.revokeTokens();
    expect((await local.get(`/tenants/${sim.seed.partnerTenantId}`)).status).toBe(401);
    local.dropToken();
    expect((await local.get(`/tenants/${sim.seed.partnerTenantId}`)).status).toBe(200);
    await fetch(`${sim.url}/__sim/tokens/revoke`, { method: 'POST' });
    expect((await local.get(`/tenants/${sim.seed.partnerTenantId}`)).status).toBe(401);
  });
});

describe('API clients', () => {
  it('GET /clients/{id} tells a client its tenant, without the secret', async () => {
    const res = await api.get(`/clients/${sim.seed.clientId}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      client_id: sim.seed.clientId,
      tenant_id: sim.seed.partnerTenantId,
      status: 'enabled',
    });
    expect(res.text).not.toContain(sim.seed.clientSecret);
  });

  it('POST /clients with the admin login:password creates a client (201) that can get tokens', async () => {
    const res = await api.post(
      '/clients',
      {
        type: 'api_client',
        tenant_id: sim.seed.partnerTenantId,
        token_endpoint_auth_method: 'client_secret_basic',
        data: { client_name: 'onboarding' },
      },
      { authorization: api.basic(sim.seed.adminLogin, sim.seed.adminPassword) },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      tenant_id: sim.seed.partnerTenantId,
      type: 'api_client',
      client_secret_expires_at: 0,
      status: 'enabled',
    });
    const accessToken = await api.issueToken(res.body.client_id, res.body.client_secret);
    const me = await api.get(`/clients/${res.body.client_id}`, { authorization: `Bearer ${accessToken}` });
    expect(me.body.tenant_id).toBe(sim.seed.partnerTenantId);
    expect(sim.state().clients.map((c) => c.client_id)).toContain(res.body.client_id);
    expect(JSON.stringify(sim.state().clients)).not.toContain(res.body.client_secret);
  });

  it('POST /clients refuses a wrong password (401) and unknown properties (400)', async () => {
    const body = {
      type: 'api_client',
      tenant_id: sim.seed.partnerTenantId,
      token_endpoint_auth_method: 'client_secret_basic',
    };
    expect((await api.post('/clients', body, { authorization: api.basic(sim.seed.adminLogin, 'nope') })).status).toBe(
      401,
    );
    const bad = await api.post('/clients', { ...body, client_name: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.info).toContain("must NOT have additional property 'client_name'");
  });

  it('an API client in a disabled tenant gets no token', async () => {
    const customer = await api.post('/tenants', {
      name: 'Client Host',
      parent_id: sim.seed.partnerTenantId,
      kind: 'customer',
      enabled: false,
    });
    const client = await api.post('/clients', {
      type: 'api_client',
      tenant_id: customer.body.id,
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(client.status, client.text).toBe(201);
    await expect(api.issueToken(client.body.client_id, client.body.client_secret)).rejects.toThrow(/401/);
  });
});
