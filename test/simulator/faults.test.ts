/* eslint-disable @typescript-eslint/no-explicit-any -- API bodies are read loosely here */
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  simGet,
  simulatorApi,
  startTestSimulator,
  type RunningSimulator,
  type SimulatorApi,
} from '../helpers/simulator.js';

let sim: RunningSimulator;
let api: SimulatorApi;
let partnerId: string;

beforeAll(async () => {
  sim = await startTestSimulator();
  api = simulatorApi(sim);
  partnerId = sim.seed.partnerTenantId;
  await api.get(`/tenants/${partnerId}`); // the token is cached before the bursts
});
beforeEach(() => {
  sim.resetStats();
});
afterEach(() => {
  sim.configure({ faults: [], rateLimit: null, rateLimitChanges: [], retryAfter: true, latencyMs: 0, jitterMs: 0 });
});
afterAll(async () => {
  await sim.close();
});

const tenantsNamed = (name: string) => sim.state().tenants.filter((t) => t.name === name && t.deleted_at === null);
const newTenant = (name: string) => api.post('/tenants', { name, parent_id: partnerId, kind: 'customer' });

/** A request whose connection dies: fetch rejects with a socket error. */
async function expectReset(promise: Promise<unknown>) {
  await expect(promise).rejects.toThrow(/fetch failed/);
}

describe('rate limit', () => {
  it('answers 429 with Retry-After over the limit, and stats measure the arrival rate exactly', async () => {
    sim.configure({ rateLimit: 5 });
    const results = await Promise.all(Array.from({ length: 12 }, () => api.get(`/tenants/${partnerId}`)));
    const limited = results.filter((r) => r.status === 429);
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    expect(limited).toHaveLength(7);
    for (const r of limited) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(r.body.error).toMatchObject({ code: 429, domain: 'PlatformAccountServer' });
    }
    const stats = sim.stats();
    expect(stats.maxRequestsPerSecond).toBe(12);
    expect(stats.maxAdmittedPerSecond).toBe(5);
    expect(stats.byEndpoint['GET /tenants/{tenant_id}']).toEqual({ 200: 5, 429: 7 });
    expect(stats.total).toBe(12);
  });

  it('answers 429 without Retry-After when told to, over the limit and for an injected 429', async () => {
    sim.configure({ rateLimit: 1, retryAfter: false });
    let refused: { status: number; headers: Headers } | undefined;
    for (let i = 0; i < 20 && !refused; i++) {
      const answers = await Promise.all([api.get(`/tenants/${partnerId}`), api.get(`/tenants/${partnerId}`)]);
      refused = answers.find((r) => r.status === 429);
    }
    expect(refused?.headers.get('retry-after')).toBeNull();
    sim.configure({ rateLimit: null, faults: [{ kind: '429', retryAfter: null, times: 1 }] });
    const injected = await api.get(`/tenants/${partnerId}`);
    expect(injected.status).toBe(429);
    expect(injected.headers.get('retry-after')).toBeNull();
    sim.configure({ faults: [{ kind: '429', retryAfter: 3, times: 1 }] });
    expect((await api.get(`/tenants/${partnerId}`)).headers.get('retry-after')).toBe('3');
  });

  it('changes the limit at the given times, counted from when the changes were set', async () => {
    // No limit for now; from 3 s on, 2 per second (3 s: the five requests before it arrive in time on a busy machine).
    sim.configure({ rateLimit: null, rateLimitChanges: [{ afterMs: 3000, rateLimit: 2 }] });
    const before = await Promise.all(Array.from({ length: 5 }, () => api.get(`/tenants/${partnerId}`)));
    expect(before.every((r) => r.status === 200)).toBe(true);
    // Wait on the simulator's own answer, not a clock: the change is due once a request is refused.
    let after: { status: number }[] = [];
    for (let i = 0; i < 100 && !after.some((r) => r.status === 429); i++) {
      await new Promise((ok) => setTimeout(ok, 100));
      after = await Promise.all(Array.from({ length: 5 }, () => api.get(`/tenants/${partnerId}`)));
    }
    expect(after.some((r) => r.status === 429)).toBe(true);
    // The round that met the change may have straddled it; the next five all arrive under it.
    const under = await Promise.all(Array.from({ length: 5 }, () => api.get(`/tenants/${partnerId}`)));
    expect(under.filter((r) => r.status === 200).length).toBeLessThanOrEqual(2);
    expect(sim.config().rateLimitChanges).toEqual([{ afterMs: 3000, rateLimit: 2 }]);
  });

  it('never limits /__sim', async () => {
    sim.configure({ rateLimit: 1 });
    await api.get(`/tenants/${partnerId}`);
    for (let i = 0; i < 5; i++) expect((await fetch(`${sim.url}/__sim/stats`)).status).toBe(200);
  });
});

describe('faults before the handler', () => {
  it('5xx answers an errorScheme 500 (or the given status) and changes nothing', async () => {
    const name = `Five ${randomUUID().slice(0, 8)}`;
    sim.configure({ faults: [{ kind: '5xx', methods: ['POST'], path: '^/tenants$', times: 1 }] });
    const failed = await newTenant(name);
    expect(failed.status).toBe(500);
    expect(failed.body.error.code).toBe(500);
    expect(tenantsNamed(name)).toHaveLength(0);
    expect((await newTenant(name)).status).toBe(201);
    expect(sim.stats().byEndpoint['POST /tenants']).toEqual({ 201: 1, 500: 1 });
    sim.configure({ faults: [{ kind: '5xx', status: 503, times: 1 }] });
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(503);
  });

  it('429 answers with Retry-After', async () => {
    sim.configure({ faults: [{ kind: '429', path: '^/tenants/\\{tenant_id\\}$', times: 1 }] });
    const res = await api.get(`/tenants/${partnerId}`);
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(200);
  });

  it('reset destroys the connection and is counted as "reset"', async () => {
    const name = `Reset ${randomUUID().slice(0, 8)}`;
    sim.configure({ faults: [{ kind: 'reset', methods: ['POST'], times: 1 }] });
    await expectReset(newTenant(name));
    expect(tenantsNamed(name)).toHaveLength(0);
    expect(sim.stats().byEndpoint['POST /tenants']).toEqual({ reset: 1 });
  });

  it('hang holds the request until the client gives up; the socket is destroyed after hangMs', async () => {
    sim.configure({ faults: [{ kind: 'hang', times: 1, hangMs: 300 }] });
    const started = Date.now();
    const aborted = fetch(`${sim.url}/api/2/tenants/${partnerId}`, { signal: AbortSignal.timeout(100) });
    await expect(aborted).rejects.toThrow(/aborted|timeout/i);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sim.stats().byEndpoint['GET /tenants/{tenant_id}']).toEqual({ reset: 1 });

    sim.configure({ faults: [{ kind: 'hang', times: 1, hangMs: 100 }] });
    await expectReset(api.get(`/tenants/${partnerId}`));
  });

  it('times uses the fault up and removes it from the config; probability 0 never fires', async () => {
    sim.configure({
      faults: [
        { kind: '5xx', times: 2 },
        { kind: '429', probability: 0 },
      ],
    });
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(500);
    expect(sim.config().faults).toEqual([
      { kind: '5xx', times: 1 },
      { kind: '429', probability: 0 },
    ]);
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(500);
    expect(sim.config().faults).toEqual([{ kind: '429', probability: 0 }]);
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(200);
  });

  it('applies to /api/2 only, matching methods and the OAS route', async () => {
    sim.configure({
      faults: [
        { kind: '5xx', methods: ['PUT'] },
        { kind: '5xx', path: '^/users/check_login$' },
      ],
    });
    expect((await fetch(`${sim.url}/__sim/state`)).status).toBe(200);
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(200);
    expect((await api.get('/users/check_login?username=free-login')).status).toBe(500);
  });
});

describe('commit-then-fail', () => {
  it('commits the tenant, then answers 500: a naive retry makes a duplicate attempt that conflicts', async () => {
    const name = `Commit ${randomUUID().slice(0, 8)}`;
    sim.configure({ faults: [{ kind: 'commit-then-fail', path: '^/tenants$', times: 1 }] });
    const res = await newTenant(name);
    expect(res.status).toBe(500);
    expect(tenantsNamed(name)).toHaveLength(1);
    const retry = await newTenant(name);
    expect(retry.status).toBe(409);
    expect(tenantsNamed(name)).toHaveLength(1);
  });

  it('with drop: the change is committed and the connection is destroyed', async () => {
    const name = `Drop ${randomUUID().slice(0, 8)}`;
    sim.configure({ faults: [{ kind: 'commit-then-fail', drop: true, times: 1 }] });
    await expectReset(newTenant(name));
    expect(tenantsNamed(name)).toHaveLength(1);
    expect(sim.stats().byEndpoint['POST /tenants']).toEqual({ reset: 1 });
  });

  it('never applies to GET', async () => {
    sim.configure({ faults: [{ kind: 'commit-then-fail' }] });
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(200);
    expect(sim.config().faults).toHaveLength(1);
  });
});

describe('/__sim/config', () => {
  it('GET shows the options; PUT merges a partial patch at run time', async () => {
    const put = await fetch(`${sim.url}/__sim/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ latencyMs: 150, faults: [{ kind: '5xx', times: 1 }] }),
    });
    expect(put.status).toBe(200);
    const config = await simGet(sim, '/config');
    expect(config).toMatchObject({
      latencyMs: 150,
      tokenTtlSeconds: 7200,
      rateLimit: null,
      faults: [{ kind: '5xx', times: 1 }],
    });
    const started = Date.now();
    expect((await api.get(`/tenants/${partnerId}`)).status).toBe(500);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('PUT answers 400 with the zod issues on a bad body', async () => {
    for (const body of [
      { latencyMs: -1 },
      { faults: [{ kind: 'explode' }] },
      { nope: true },
      { faults: [{ kind: '5xx', path: '(' }] },
    ]) {
      const res = await fetch(`${sim.url}/__sim/config`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = ((await res.json()) as any).error;
      expect(error.code).toBe(400);
      expect(error.details.info).toBeTypeOf('string');
    }
    expect(sim.config().latencyMs).toBe(0);
  });

  it('GET /__sim/state shows the world in API shapes', async () => {
    const state = await simGet(sim, '/state');
    expect(Object.keys(state).sort()).toEqual([
      'accessPolicies',
      'clients',
      'offeringItems',
      'pricing',
      'registrationTokens',
      'tenants',
      'users',
    ]);
    expect(state.tenants.map((t: any) => t.id)).toContain(partnerId);
    expect(state.offeringItems[partnerId].length).toBeGreaterThan(20);
    expect(state.clients[0]).not.toHaveProperty('client_secret');
  });

  it('the same seed gives the same ids and credentials', async () => {
    const [a, b] = await Promise.all([startTestSimulator({ seed: 'same' }), startTestSimulator({ seed: 'same' })]);
    try {
      expect(a.seed).toEqual(b.seed);
      expect(a.seed).not.toEqual(sim.seed);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('stats reset over HTTP; unknown routes are 404 errorScheme and counted', async () => {
    await api.get('/no/such/thing');
    expect(sim.stats().byEndpoint['GET /no/such/thing']).toEqual({ 404: 1 });
    expect((await api.send('PATCH', `/tenants/${partnerId}`)).status).toBe(405);
    expect((await fetch(`${sim.url}/__sim/stats/reset`, { method: 'POST' })).status).toBe(204);
    expect(await simGet(sim, '/stats')).toMatchObject({ total: 0, byEndpoint: {}, maxRequestsPerSecond: 0 });
  });
});
