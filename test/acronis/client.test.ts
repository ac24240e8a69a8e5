import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z, ZodError } from 'zod';
import { RedisKeys } from '../../src/redis/keys.js';
import { createAcronisClient, USER_AGENT, type AcronisClient } from '../../src/acronis/client.js';
import { AcronisApiError, isRetryable } from '../../src/acronis/errors.js';
import { backupAgentAdminScope } from '../../src/acronis/registration-tokens.js';
import { checkLogin } from '../../src/acronis/users.js';
import { AcronisTransport } from '../../src/acronis/transport.js';
import { createSecretBox, generateSecretsKey } from '../../src/secrets/secret-box.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import { connectRedis, removeKeys, uniquePrefix } from '../helpers/redis.js';
import { startTestSimulator } from '../helpers/simulator.js';

/** Each client function against the simulator over real HTTP, including its error answers. */

let sim: RunningSimulator;
let redis: Redis;
let client: AcronisClient;
const prefix = uniquePrefix('client');
const box = createSecretBox(generateSecretsKey());

function newClient(overrides: Partial<Parameters<typeof createAcronisClient>[0]> = {}): AcronisClient {
  return createAcronisClient({
    baseUrl: sim.url,
    clientId: sim.seed.clientId,
    clientSecret: sim.seed.clientSecret,
    redis,
    box,
    tokenKeys: new RedisKeys(prefix).tokenCache(sim.url, sim.seed.clientId, sim.seed.clientSecret),
    timeoutMs: 5000,
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<AcronisApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AcronisApiError);
  return err as AcronisApiError;
}

let counter = 0;
const uniqueName = (label: string) => `${label} ${prefix} ${++counter}`;

async function newCustomer(label = 'Customer') {
  return client.createTenant({
    name: uniqueName(label),
    parent_id: sim.seed.partnerTenantId,
    kind: 'customer',
    customer_id: `ext-${counter}`,
  });
}

beforeAll(async () => {
  sim = await startTestSimulator({ validateResponses: true });
  redis = connectRedis();
  client = newClient();
});

afterAll(async () => {
  await removeKeys(redis, prefix);
  redis.disconnect();
  await sim.close();
});

describe('auth and API clients', () => {
  it('learns its own tenant from GET /clients/{id}', async () => {
    const me = await client.getApiClient(sim.seed.clientId);
    expect(me.client_id).toBe(sim.seed.clientId);
    expect(me.tenant_id).toBe(sim.seed.partnerTenantId);
  });

  it('creates an API client with a user login (Basic auth) and the new secret works', async () => {
    const created = await client.createApiClient({
      tenantId: sim.seed.partnerTenantId,
      clientName: 'onboarding',
      login: sim.seed.adminLogin,
      password: sim.seed.adminPassword,
    });
    expect(created.client_secret.length).toBeGreaterThan(8);
    const other = newClient({
      clientId: created.client_id,
      clientSecret: created.client_secret,
      tokenKeys: new RedisKeys(`${prefix}:second`).tokenCache(sim.url, sim.seed.clientId, sim.seed.clientSecret),
    });
    expect((await other.getApiClient(created.client_id)).tenant_id).toBe(sim.seed.partnerTenantId);
  });

  it('refuses Basic auth with a wrong password (401, not retryable)', async () => {
    const err = await rejection(
      client.createApiClient({
        tenantId: sim.seed.partnerTenantId,
        clientName: 'x',
        login: sim.seed.adminLogin,
        password: 'wrong-password',
      }),
    );
    expect(err.status).toBe(401);
    expect(err.retryable).toBe(false);
  });

  it('reports wrong client credentials as an unrecoverable 401 from /idp/token', async () => {
    const bad = newClient({
      clientSecret: 'not-the-secret',
      tokenKeys: new RedisKeys(`${prefix}:bad`).tokenCache(sim.url, sim.seed.clientId, sim.seed.clientSecret),
    });
    const err = await rejection(bad.getTenant(sim.seed.partnerTenantId));
    expect(err.status).toBe(401);
    expect(err.path).toBe('/idp/token');
    expect(err.retryable).toBe(false);
  });

  it('re-issues once and retries once when the cached token was revoked', async () => {
    await client.getTenant(sim.seed.partnerTenantId); // a token is cached
    sim.resetStats();
    sim.revokeTokens();
    const tenant = await client.getTenant(sim.seed.partnerTenantId);
    expect(tenant.id).toBe(sim.seed.partnerTenantId);
    const stats = sim.stats();
    expect(stats.unauthorized).toBe(1);
    expect(stats.tokenIssues).toBe(1);
  });
});

describe('a short-lived token', () => {
  it('is re-issued once before it expires and no call fails (token lifetime 6 s)', async () => {
    const shortSim = await startTestSimulator({ tokenTtlSeconds: 6 });
    try {
      const shortClient = createAcronisClient({
        baseUrl: shortSim.url,
        clientId: shortSim.seed.clientId,
        clientSecret: shortSim.seed.clientSecret,
        redis,
        box,
        tokenKeys: new RedisKeys(`${prefix}:short`).tokenCache(sim.url, sim.seed.clientId, sim.seed.clientSecret),
      });
      // Calls run back to back past the first token's expiry (6 s) but before the second token's refresh point (4.5 s + 4.5 s).
      // Waiting out the lifetime is the thing under test.
      const firstIssue = Date.now();
      let calls = 0;
      while (Date.now() - firstIssue < 7000) {
        await shortClient.getTenant(shortSim.seed.partnerTenantId);
        calls++;
      }
      const stats = shortSim.stats();
      expect(calls).toBeGreaterThan(10);
      expect(stats.tokenIssues).toBe(2);
      expect(stats.unauthorized).toBe(0);
    } finally {
      await shortSim.close();
    }
  });
});

describe('tenants', () => {
  it('creates a customer, reads it back and finds it by search', async () => {
    const name = uniqueName('Acme');
    const created = await client.createTenant({
      name,
      parent_id: sim.seed.partnerTenantId,
      kind: 'customer',
      customer_id: 'crm-42',
      contact: { email: 'it@acme.example', firstname: 'Ann', lastname: 'Admin' },
    });
    expect(created).toMatchObject({
      name,
      kind: 'customer',
      customer_id: 'crm-42',
      enabled: true,
      parent_id: sim.seed.partnerTenantId,
    });
    expect(created.created_at).toMatch(/Z$/); // normalised, whatever format the API used
    const read = await client.getTenant(created.id);
    expect(read.version).toBe(created.version);
    const hits = await client.search({ tenantId: sim.seed.partnerTenantId, text: name });
    expect(hits.filter((h) => h.obj_type === 'tenant' && h.name === name).map((h) => h.id)).toEqual([created.id]);
  });

  it('answers a sibling name conflict with 409 / code 1004, not retryable', async () => {
    const first = await newCustomer('Twice');
    const err = await rejection(
      client.createTenant({ name: first.name, parent_id: sim.seed.partnerTenantId, kind: 'customer' }),
    );
    expect(err.status).toBe(409);
    expect(err.platformCode).toBe(1004);
    expect(err.retryable).toBe(false);
    expect(err.message).toContain('1004');
  });

  it('refuses a property the OAS schema does not allow before sending it', async () => {
    sim.resetStats();
    await expect(
      client.createTenant({ name: 'x', parent_id: sim.seed.partnerTenantId, kind: 'customer', foo: 1 } as never),
    ).rejects.toThrow(ZodError);
    expect(sim.stats().byEndpoint['POST /tenants']).toBeUndefined();
  });

  it("walks every page of a partner's children with cursor paging", async () => {
    const folder = await client.createTenant({
      name: uniqueName('Folder'),
      parent_id: sim.seed.partnerTenantId,
      kind: 'folder',
    });
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      ids.push((await client.createTenant({ name: `child ${i}`, parent_id: folder.id, kind: 'customer' })).id);
    }
    sim.resetStats();
    const seen: string[] = [];
    for await (const t of client.listChildTenants(folder.id, { limit: 3 })) seen.push(t.id);
    expect(seen.sort()).toEqual(ids.sort());
    // 7 children, 3 per page: three pages, each its own request.
    expect(sim.stats().byEndpoint['GET /tenants']?.['200']).toBe(3);
  });
});
describe('offering items and pricing', () => {
  it('reads what a customer may get per edition, enables items with one storage, refuses a second', async () => {
    const available = await client.getAvailableForChild(sim.seed.partnerTenantId, {
      kind: 'customer',
      edition: 'pck_per_workload',
    });
    expect(available.length).toBeGreaterThan(0);
    expect(available.filter((i) => i.edition !== null).every((i) => i.edition === 'pck_per_workload')).toBe(true);
    const storages = available.filter((i) => i.type === 'infra');
    expect(storages.length).toBeGreaterThanOrEqual(2);

    const customer = await newCustomer('Items');
    const workstations = available.find((i) => i.usage_name === 'workstations');
    expect(workstations).toBeDefined();
    const items = await client.putOfferingItems(customer.id, [
      {
        application_id: workstations!.application_id,
        name: workstations!.name,
        status: 1,
        quota: { value: 50, overage: 5, version: 0 },
      },
      {
        application_id: storages[0]!.application_id,
        name: storages[0]!.name,
        infra_id: storages[0]!.infra_id,
        status: 1,
      },
    ]);
    expect(items.find((i) => i.name === workstations!.name)).toMatchObject({
      status: 1,
      quota: { value: 50, overage: 5 },
    });

    const enabled = await client.getOfferingItems(customer.id, { edition: '*', status: 1 });
    expect(enabled.map((i) => i.name).sort()).toEqual([workstations!.name, storages[0]!.name].sort());

    const second = await rejection(
      client.putOfferingItems(customer.id, [
        {
          application_id: storages[1]!.application_id,
          name: storages[1]!.name,
          infra_id: storages[1]!.infra_id,
          status: 1,
        },
      ]),
    );
    expect(second.platformCode).toBe(1015);
    expect(second.retryable).toBe(false);
  });

  it('switches pricing trial → production once and refuses the way back', async () => {
    const customer = await newCustomer('Pricing');
    const trial = await client.getPricing(customer.id);
    expect(trial.mode).toBe('trial');
    const production = await client.setPricing(customer.id, { mode: 'production', version: trial.version });
    expect(production.mode).toBe('production');
    const back = await rejection(client.setPricing(customer.id, { mode: 'trial', version: production.version }));
    expect(back.status).toBe(400);
    expect(back.platformCode).toBe(1027);
  });
});

describe('users, roles, activation and agent tokens', () => {
  it('creates an admin user, gives it a role, activates it and makes an agent registration token', async () => {
    const customer = await newCustomer('Users');
    const login = `admin.${prefix}.${counter}`;
    expect(await checkLogin(client.transport, login)).toBe('available');
    const user = await client.createUser({
      tenant_id: customer.id,
      login,
      contact: { email: `${login}@example.com`, firstname: 'Ann' },
    });
    expect(user).toMatchObject({ login, tenant_id: customer.id, activated: false });
    expect(user.personal_tenant_id).toBeTruthy();
    expect(await checkLogin(client.transport, login)).toBe('taken');
    expect(await client.listTenantUserIds(customer.id)).toContain(user.id);

    const dup = await rejection(
      client.createUser({ tenant_id: customer.id, login, contact: { email: 'other@example.com' } }),
    );
    expect(dup.status).toBe(409);
    expect(dup.retryable).toBe(false);

    const policies = await client.setAccessPolicies(user.id, [{ roleId: 'company_admin', tenantId: customer.id }]);
    expect(policies.map((p) => p.role_id)).toEqual(['company_admin']);

    await client.sendActivationEmail(user.id);
    await client.setUserPassword(user.id, 'Str0ng-Passw0rd!x');
    expect((await client.getUser(user.id)).activated).toBe(true);

    const token = await client.createRegistrationToken(customer.id, {
      expiresInSeconds: 3 * 24 * 3600,
      scopes: [backupAgentAdminScope(user.personal_tenant_id!)],
    });
    expect(token.token).toMatch(/^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
    expect(Date.parse(token.expires_at) - Date.parse(token.created_at)).toBeGreaterThan(2 * 24 * 3600 * 1000);
    expect((await client.listRegistrationTokens(customer.id)).map((t) => t.id)).toContain(token.id);
    await expect(
      client.createRegistrationToken(customer.id, { expiresInSeconds: 400 * 24 * 3600, scopes: [] }),
    ).rejects.toThrow(RangeError);
  });

  it('answers unknown ids with 404 and a weak password with 400, none retryable', async () => {
    const unknown = '7b3f5b0e-0000-4000-8000-000000000000';
    const calls = [
      () => client.getUser(unknown),
      () => client.sendActivationEmail(unknown),
      () => client.getPricing(unknown),
    ];
    for (const call of calls) {
      const err = await rejection(call());
      expect(err.status).toBe(404);
      expect(err.retryable).toBe(false);
    }
    const customer = await newCustomer('Weak');
    const user = await client.createUser({
      tenant_id: customer.id,
      login: `weak.${prefix}.${counter}`,
      contact: { email: 'w@example.com' },
    });
    const weak = await rejection(client.setUserPassword(user.id, '123'));
    expect(weak.status).toBe(400);
    expect((await client.getUser(user.id)).activated).toBe(false);
  });

  it('answers a malformed login with 406, not retryable', async () => {
    const err = await rejection(checkLogin(client.transport, 'a'));
    expect(err.status).toBe(406);
    expect(isRetryable(err)).toBe(false);
  });
});

describe('usages', () => {
  it("reads a customer's usages", async () => {
    const customer = await newCustomer('Usage');
    expect(Array.isArray(await client.getTenantUsages(customer.id))).toBe(true);
  });

  it("reads several customers' usages in one call, each entry naming its tenant; refuses more than 100", async () => {
    const [a, b] = [await newCustomer('UsageA'), await newCustomer('UsageB')];
    const batch = await client.getTenantsUsages([a.id, b.id]);
    expect(batch.map((e) => e.tenant)).toEqual([a.id, b.id]);
    expect(batch[0]!.usages).toEqual(await client.getTenantUsages(a.id));
    await expect(client.getTenantsUsages(Array.from({ length: 101 }, () => a.id))).rejects.toThrow(RangeError);
  });
});

describe('errors and faults: classified once, never retried inside the client', () => {
  it('5xx → retryable, and a failed POST is sent exactly once', async () => {
    sim.configure({ faults: [{ kind: '5xx', methods: ['POST'], path: '^/tenants$', times: 1 }] });
    sim.resetStats();
    const err = await rejection(newCustomer('Fault5xx'));
    expect(err.status).toBe(500);
    expect(err.retryable).toBe(true);
    expect(Object.values(sim.stats().byEndpoint['POST /tenants'] ?? {}).reduce((a, b) => a + b, 0)).toBe(1);
  });

  it('429 → retryable with Retry-After in ms', async () => {
    sim.configure({ faults: [{ kind: '429', path: '^/tenants/\\{tenant_id\\}$', times: 1 }] });
    const err = await rejection(client.getTenant(sim.seed.partnerTenantId));
    expect(err.status).toBe(429);
    expect(err.retryable).toBe(true);
    expect(err.retryAfterMs).toBeGreaterThan(0);
    // No throttle here: nothing says when it left.
    expect(err.sentAt).toBeUndefined();
  });

  it('a 429 carries the send time its throttle gave (the request budget judges it by)', async () => {
    sim.configure({ faults: [{ kind: '429', path: '^/tenants/\\{tenant_id\\}$', times: 1 }] });
    const slot = 1_700_000_000_123_456;
    const throttled = newClient({ throttle: { acquire: async () => slot } });
    const err = await rejection(throttled.getTenant(sim.seed.partnerTenantId));
    expect(err.status).toBe(429);
    expect(err.sentAt).toBe(slot);
  });

  it('connection reset → network error, retryable', async () => {
    sim.configure({ faults: [{ kind: 'reset', path: '^/tenants/\\{tenant_id\\}$', times: 1 }] });
    const err = await rejection(client.getTenant(sim.seed.partnerTenantId));
    expect(err.kind).toBe('network');
    expect(err.retryable).toBe(true);
  });

  it('a hung request times out → retryable', async () => {
    sim.configure({ faults: [{ kind: 'hang', path: '^/tenants/\\{tenant_id\\}$', times: 1, hangMs: 3000 }] });
    const impatient = newClient({ timeoutMs: 300 });
    const err = await rejection(impatient.getTenant(sim.seed.partnerTenantId));
    expect(err.kind).toBe('timeout');
    expect(err.retryable).toBe(true);
  });

  it('commit-then-fail: the client reports a retryable failure but the tenant exists on the server', async () => {
    const name = uniqueName('Committed');
    sim.configure({ faults: [{ kind: 'commit-then-fail', methods: ['POST'], path: '^/tenants$', times: 1 }] });
    const err = await rejection(client.createTenant({ name, parent_id: sim.seed.partnerTenantId, kind: 'customer' }));
    expect(err.retryable).toBe(true);
    // This is why the pipeline looks before it creates: the server committed.
    expect(sim.state().tenants.filter((t) => t.name === name)).toHaveLength(1);
  });

  it('a token issue that fails in another process reaches this one as a retryable AcronisApiError', async () => {
    // Two clients on one cache key stand for two worker processes: one issues, the other waits on it.
    const shared = {
      tokenKeys: new RedisKeys(`${prefix}:shared-failure`).tokenCache(
        sim.url,
        sim.seed.clientId,
        sim.seed.clientSecret,
      ),
      timeoutMs: 400,
    };
    const [a, b] = [newClient(shared), newClient(shared)];
    sim.configure({ faults: [{ kind: 'hang', path: '^/idp/token$', times: 1, hangMs: 2000 }] });
    const errors = await Promise.all([
      rejection(a.getTenant(sim.seed.partnerTenantId)),
      rejection(b.getTenant(sim.seed.partnerTenantId)),
    ]);
    for (const err of errors) {
      expect(err.path).toBe('/idp/token');
      expect(err.kind).toBe('timeout');
      expect(isRetryable(err)).toBe(true);
    }
    // The failure is not cached: the next call issues and succeeds.
    expect((await b.getTenant(sim.seed.partnerTenantId)).id).toBe(sim.seed.partnerTenantId);
  });

  it('no response violations against the OAS schemas in everything above', () => {
    expect(sim.stats().responseViolations).toEqual([]);
  });
});

describe('transport details', () => {
  let server: Server;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];
  let answer: { status: number; body: string } = { status: 200, body: '{}' };

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends the integration User-Agent on every call', async () => {
    const transport = new AcronisTransport({ baseUrl: url, userAgent: USER_AGENT });
    answer = { status: 204, body: '' };
    await transport.empty({ method: 'GET', path: '/users/check_login', auth: { type: 'none' } });
    expect(seen.at(-1)?.['user-agent']).toMatch(/^acronis-onboard\/\d+\.\d+\.\d+ \(.+\)$/);
  });

  it('a 2xx body of the wrong shape is an unrecoverable invalid-response error', async () => {
    const transport = new AcronisTransport({ baseUrl: url, userAgent: USER_AGENT });
    answer = { status: 200, body: '{"items":"nope"}' };
    const err = await rejection(
      transport.json(
        { method: 'GET', path: '/tenants', auth: { type: 'none' } },
        z.object({ items: z.array(z.string()) }),
      ),
    );
    expect(err.kind).toBe('invalid-response');
    expect(err.retryable).toBe(false);
  });

  it('tells its throttle when each request is written out, with the slot it gave, before the answer', async () => {
    const events: string[] = [];
    let next = 0;
    const throttle = {
      acquire: async () => {
        next++;
        events.push(`slot ${next}`);
        return next;
      },
      sent: (slot: unknown) => events.push(`sent ${String(slot)}`),
    };
    const transport = new AcronisTransport({ baseUrl: url, userAgent: USER_AGENT, throttle });
    answer = { status: 204, body: '' };
    for (const n of [1, 2]) {
      await transport.empty({ method: 'POST', path: '/x', json: { n }, auth: { type: 'none' } });
      events.push(`answered ${n}`);
    }
    expect(events).toEqual(['slot 1', 'sent 1', 'answered 1', 'slot 2', 'sent 2', 'answered 2']);
  });

  it('an error body without errorScheme still yields status and message', async () => {
    const transport = new AcronisTransport({ baseUrl: url, userAgent: USER_AGENT });
    answer = { status: 502, body: '<html>bad gateway</html>' };
    const err = await rejection(transport.empty({ method: 'GET', path: '/x', auth: { type: 'none' } }));
    expect([err.status, err.retryable]).toEqual([502, true]);
  });
});
