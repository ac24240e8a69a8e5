import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  closeSimulators,
  DataCentresError,
  startSimulators,
  type RunningSimulator,
} from '../../src/simulator/index.js';
import { requestToken } from '../helpers/simulator.js';

/** POST /idp/token with `client`'s credentials at `dc`: the status it answers. */
async function tokenStatus(dc: RunningSimulator, client: RunningSimulator['seed']): Promise<number> {
  const response = await requestToken(dc.url, client.clientId, client.clientSecret);
  await response.body?.cancel();
  return response.status;
}

async function putConfig(dc: RunningSimulator, patch: unknown): Promise<number> {
  const response = await fetch(`${dc.url}/__sim/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  await response.body?.cancel();
  return response.status;
}

/** Statuses of `n` token requests sent together. */
function statuses(dc: RunningSimulator, n: number): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => tokenStatus(dc, dc.seed)));
}

describe('two simulated data centres', () => {
  let dcs: RunningSimulator[];
  let dc1: RunningSimulator;
  let dc2: RunningSimulator;

  beforeAll(async () => {
    dcs = await startSimulators(2);
    [dc1, dc2] = dcs as [RunningSimulator, RunningSimulator];
  });
  afterAll(async () => {
    await closeSimulators(dcs);
  });

  it('have their own URL, partner tenant and API client', () => {
    expect(dc1.url).not.toBe(dc2.url);
    expect([dc1.seed.partnerName, dc2.seed.partnerName]).toEqual(['Sim Partner DC1', 'Sim Partner DC2']);
    expect([dc1.seed.adminLogin, dc2.seed.adminLogin]).toEqual(['sim-dc1-partner-admin', 'sim-dc2-partner-admin']);
    expect(dc1.seed.partnerTenantId).not.toBe(dc2.seed.partnerTenantId);
    expect(dc1.seed.clientId).not.toBe(dc2.seed.clientId);
    expect(dc1.seed.clientSecret).not.toBe(dc2.seed.clientSecret);
    // Each world holds only its own partner: no tenant id of one is known to the other.
    const ids = (dc: RunningSimulator) => new Set(dc.state().tenants.map((tenant) => tenant.id));
    expect([...ids(dc1)].filter((id) => ids(dc2).has(id))).toEqual([]);
  });

  it("give a token to their own client only: DC1's client gets 401 from DC2", async () => {
    expect(await tokenStatus(dc1, dc1.seed)).toBe(200);
    expect(await tokenStatus(dc2, dc2.seed)).toBe(200);
    expect(await tokenStatus(dc2, dc1.seed)).toBe(401);
    expect(await tokenStatus(dc1, dc2.seed)).toBe(401);
  });

  it('a 429 storm set on DC1 through /__sim/config leaves DC2 answering 200', async () => {
    expect(await putConfig(dc1, { faults: [{ kind: '429' }] })).toBe(200);
    try {
      expect(await statuses(dc1, 3)).toEqual([429, 429, 429]);
      expect(await statuses(dc2, 3)).toEqual([200, 200, 200]);
      expect(dc2.config().faults).toEqual([]);
    } finally {
      await putConfig(dc1, { faults: [] });
    }
  });

  it("a rate limit set on DC1 through /__sim/config is DC1's alone", async () => {
    expect(await putConfig(dc1, { rateLimit: 1 })).toBe(200);
    try {
      // One admitted per second: four sent together are three over it, unless they straddle a second.
      const dc1Statuses = await statuses(dc1, 4);
      expect(dc1Statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(2);
      expect(await statuses(dc2, 4)).toEqual([200, 200, 200, 200]);
      expect(dc2.config().rateLimit).toBeNull();
    } finally {
      await putConfig(dc1, { rateLimit: null });
    }
  });
});

describe('startSimulators options', () => {
  it('derives one seed per data centre from a shared one: the same on every start, never shared', async () => {
    const seed = `dc-test-${randomUUID()}`;
    const first = await startSimulators(2, { seed });
    const again = await startSimulators(2, { seed });
    try {
      expect(first.map((dc) => dc.config().seed)).toEqual([`${seed}:dc1`, `${seed}:dc2`]);
      expect(again.map((dc) => dc.seed.clientId)).toEqual(first.map((dc) => dc.seed.clientId));
      expect(again.map((dc) => dc.seed.partnerTenantId)).toEqual(first.map((dc) => dc.seed.partnerTenantId));
      expect(first[0]?.seed.clientId).not.toBe(first[1]?.seed.clientId);
    } finally {
      await closeSimulators([...first, ...again]);
    }
  });

  it('gives each data centre its own options over the shared ones', async () => {
    const dcs = await startSimulators(3, { tokenTtlSeconds: 60 }, [{ rateLimit: 100 }, { rateLimit: 50 }]);
    try {
      expect(dcs.map((dc) => dc.config().rateLimit)).toEqual([100, 50, null]);
      expect(dcs.map((dc) => dc.config().tokenTtlSeconds)).toEqual([60, 60, 60]);
    } finally {
      await closeSimulators(dcs);
    }
  });

  it('listens on consecutive ports from the port given', async () => {
    const first = await freePortPair();
    const dcs = await startSimulators(2, { port: first });
    try {
      expect(dcs.map((dc) => new URL(dc.url).port)).toEqual([String(first), String(first + 1)]);
    } finally {
      await closeSimulators(dcs);
    }
  });

  it('closes the data centres it started when a later one cannot listen', async () => {
    const first = await freePortPair();
    const blocker = await listening(first + 1);
    try {
      const failure = await startSimulators(2, { port: first }).catch((err: NodeJS.ErrnoException) => err);
      expect(failure).toMatchObject({ code: 'EADDRINUSE', port: first + 1 });
      // DC1 had started on `first`; it was closed, so the port can be had again.
      await close(await listening(first));
    } finally {
      await close(blocker);
    }
  });

  it('refuses 0 or more than 4 data centres, and ports that run past 65535', async () => {
    await expect(startSimulators(0)).rejects.toThrow(DataCentresError);
    await expect(startSimulators(5)).rejects.toThrow('5 data centres: give 1 to 4');
    await expect(startSimulators(2, { port: 65_535 })).rejects.toThrow('no room for 2 consecutive ports');
    await expect(startSimulators(1, {}, [{}, {}])).rejects.toThrow(DataCentresError);
  });
});

/** A server on 127.0.0.1:`port`; rejects when the port is taken. */
async function listening(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((ready, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', ready);
  });
  return server;
}

function close(server: Server): Promise<unknown> {
  return new Promise((closed) => server.close(closed));
}

/** A port P such that P and P + 1 are both free just now (other test files take ports too). */
async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const probe = await listening(0);
    const port = (probe.address() as AddressInfo).port;
    await close(probe);
    if (port >= 65_535) continue;
    const next = await listening(port + 1).catch(() => null);
    if (next) {
      await close(next);
      return port;
    }
  }
  throw new Error('no two consecutive free ports found in 20 attempts');
}
