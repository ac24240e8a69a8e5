import { lookup } from 'node:dns/promises';
import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPublicAddress } from '../../../src/sources/connectwise/key-url.js';
import { connectwiseKind } from '../../../src/sources/connectwise/kind.js';
import { connectwiseSettingsSchema } from '../../../src/sources/connectwise/settings.js';
import type { Delivery } from '../../../src/sources/kind.js';
import {
  contextFor,
  simulatorSettings,
  startRecorder,
  startTestConnectWise,
  type Received,
} from '../../helpers/connectwise.js';
import { until } from '../../helpers/wait.js';

type Sim = Awaited<ReturnType<typeof startTestConnectWise>>;
type Recorder = Awaited<ReturnType<typeof startRecorder>>;

function deliveryOf(received: Pick<Received, 'headers' | 'rawBody'>): Delivery {
  return {
    method: 'POST',
    signedUrl: 'http://receiver/webhooks/sources/cw',
    headers: received.headers,
    rawBody: received.rawBody,
    receivedAt: Date.now(),
  };
}

/** A callback body the simulator signed, with its key URL swapped for `keyUrl` (the signature no longer matters: nothing may be fetched). */
function withKeyUrl(received: Received, keyUrl: string): Received {
  const body = JSON.parse(received.rawBody.toString('utf8')) as { Metadata: { key_url: string } };
  body.Metadata.key_url = keyUrl;
  return { headers: received.headers, rawBody: Buffer.from(JSON.stringify(body)) };
}

describe('ConnectWise callback verification over real HTTP', () => {
  let sim: Sim;
  let receiver: Recorder;
  let foreign: Recorder;
  let companyId: number;

  beforeAll(async () => {
    sim = await startTestConnectWise({ rateLimitPerSecond: null });
    receiver = await startRecorder();
    foreign = await startRecorder((_q, r) => r.end(JSON.stringify({ signing_key: 'attacker-key' })));
    sim.registerCallback(`${receiver.url}/webhooks/sources/cw`);
    companyId = sim.addCompany({
      identifier: 'Northwind',
      name: 'Northwind Traders',
      contact: { firstName: 'Ann', lastName: 'Lee', email: 'ann@northwind.example' },
    }).id;
  });

  afterAll(async () => {
    await sim?.close();
    await receiver?.close();
    await foreign?.close();
  });

  async function signedCallback(): Promise<Received> {
    const before = receiver.received.length;
    sim.addAgreement(companyId, { name: 'Backup', additions: [{ product: 'ACRONIS-WS', quantity: 5 }] });
    await until(async () => receiver.received.length > before, 'the simulated ConnectWise callback');
    return receiver.received[receiver.received.length - 1] as Received;
  }

  it('accepts the simulator’s own signed callback and fetches the key once for many callbacks', async () => {
    const ctx = contextFor(sim, simulatorSettings(sim));
    const first = await signedCallback();
    expect(first.headers['x-content-signature']).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(connectwiseKind.checkHeaders(first.headers, ctx, Date.now())).toEqual({ ok: true });
    expect(await connectwiseKind.verify(deliveryOf(first), ctx)).toEqual({ ok: true });
    const fetchesAfterFirst = sim.stats.keyFetches;
    expect(fetchesAfterFirst).toBe(1);
    for (let i = 0; i < 10; i++)
      expect(await connectwiseKind.verify(deliveryOf(await signedCallback()), ctx)).toEqual({ ok: true });
    expect(sim.stats.keyFetches).toBe(1);
  });

  it('refuses a forged signature, a tampered body and a missing header', async () => {
    const ctx = contextFor(sim, simulatorSettings(sim));
    const good = await signedCallback();
    const forged = { ...good, headers: { ...good.headers, 'x-content-signature': 'A'.repeat(43) + '=' } };
    expect(await connectwiseKind.verify(deliveryOf(forged), ctx)).toMatchObject({ ok: false });
    const tampered = {
      ...good,
      rawBody: Buffer.from(good.rawBody.toString('utf8').replace('"Action":"added"', '"Action":"updated"')),
    };
    expect(tampered.rawBody.equals(good.rawBody)).toBe(false);
    expect(await connectwiseKind.verify(deliveryOf(tampered), ctx)).toEqual({
      ok: false,
      reason: 'x-content-signature does not match the body',
    });
    const unsigned = { ...good, headers: { 'content-type': 'application/json' } };
    expect(connectwiseKind.checkHeaders(unsigned.headers, ctx, Date.now())).toMatchObject({ ok: false });
  });

  it('refuses a key_url on a foreign host, over http, on an IP literal or loopback name, with nothing fetched', async () => {
    const good = await signedCallback();
    const fetchesBefore = sim.stats.keyFetches;
    const relaxed = contextFor(sim, simulatorSettings(sim));
    const foreignUrl = `${foreign.url}/v4_6_release/system/callbackkey/index.rails?id=x`;
    expect(await connectwiseKind.verify(deliveryOf(withKeyUrl(good, foreignUrl)), relaxed)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not the configured'),
    });

    // Production rules (the test-only relaxation off), the configured host being the simulator's own address.
    const strict = contextFor(sim, simulatorSettings(sim, { allow_insecure_test_host: false }));
    const ownKeyUrl = JSON.parse(good.rawBody.toString('utf8')).Metadata.key_url as string;
    expect(await connectwiseKind.verify(deliveryOf(good), strict)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not https'),
    });
    const httpsLiteral = ownKeyUrl.replace('http://', 'https://');
    expect(await connectwiseKind.verify(deliveryOf(withKeyUrl(good, httpsLiteral)), strict)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('IP address'),
    });
    const named = contextFor(
      sim,
      simulatorSettings(sim, {
        allow_insecure_test_host: false,
        callback_key_host: `localhost:${new URL(sim.origin).port}`,
      }),
    );
    const loopbackName = httpsLiteral.replace('127.0.0.1', 'localhost');
    expect(await connectwiseKind.verify(deliveryOf(withKeyUrl(good, loopbackName)), named)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('local name'),
    });
    const withUser = ownKeyUrl.replace('http://', 'http://user:pw@');
    expect(await connectwiseKind.verify(deliveryOf(withKeyUrl(good, withUser)), relaxed)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('credentials'),
    });
    const noKeyUrl = {
      ...good,
      rawBody: Buffer.from(JSON.stringify({ ...JSON.parse(good.rawBody.toString('utf8')), Metadata: {} })),
    };
    expect(await connectwiseKind.verify(deliveryOf(noKeyUrl), relaxed)).toMatchObject({ ok: false });

    expect(foreign.received).toHaveLength(0);
    expect(sim.stats.keyFetches).toBe(fetchesBefore);
  });

  it('refuses a configured name that resolves to a non-public address, before connecting', async () => {
    // The machine's own name resolves to loopback or a private address on a test host; say so if not.
    const name = hostname();
    const addresses = await lookup(name, { all: true });
    expect(
      addresses.some((a) => !isPublicAddress(a.address)),
      `${name} should resolve to a non-public address`,
    ).toBe(true);
    const target = await startRecorder();
    try {
      const port = new URL(target.url).port;
      const strict = contextFor(
        sim,
        simulatorSettings(sim, { allow_insecure_test_host: false, callback_key_host: `${name}:${port}` }),
      );
      const good = await signedCallback();
      const verdict = await connectwiseKind.verify(
        deliveryOf(withKeyUrl(good, `https://${name}:${port}/key?id=1`)),
        strict,
      );
      expect(verdict).toEqual({ ok: false, reason: expect.stringContaining('non-public address') });
      expect(target.received).toHaveLength(0);
    } finally {
      await target.close();
    }
  });

  it('does not follow a redirect from the configured host', async () => {
    const redirector = await startRecorder((_q, r) => {
      r.writeHead(302, { location: `${foreign.url}/key` });
      r.end();
    });
    try {
      const ctx = contextFor(sim, simulatorSettings(sim, { callback_key_host: redirector.host }));
      const good = await signedCallback();
      const verdict = await connectwiseKind.verify(
        deliveryOf(withKeyUrl(good, `${redirector.url}/v4_6_release/system/callbackkey/index.rails?id=1`)),
        ctx,
      );
      expect(verdict).toEqual({ ok: false, reason: 'signing key fetch answered 302' });
      expect(redirector.received).toHaveLength(1);
      expect(foreign.received).toHaveLength(0);
    } finally {
      await redirector.close();
    }
  });

  it('sends our own credentials to the key URL and caps the answer’s size', async () => {
    const big = await startRecorder((_q, r) =>
      r.end(JSON.stringify({ signing_key: 'k'.repeat(900), pad: 'x'.repeat(20_000) })),
    );
    try {
      const settings = simulatorSettings(sim, {
        callback_key_host: big.host,
        signing_keys: { cache_entries: 2, cache_ttl_seconds: 3600, fetch_timeout_ms: 2000, max_bytes: 4096 },
      });
      const ctx = contextFor(sim, settings);
      const good = await signedCallback();
      const verdict = await connectwiseKind.verify(deliveryOf(withKeyUrl(good, `${big.url}/key?id=1`)), ctx);
      expect(verdict).toEqual({ ok: false, reason: expect.stringContaining('size cap') });
      const sent = big.received[0]?.headers;
      const c = sim.credentials;
      expect(sent?.authorization).toBe(
        `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`,
      );
      expect(sent?.clientid).toBe(c.clientId);
    } finally {
      await big.close();
    }
  });

  it('keeps at most cache_entries keys', async () => {
    const keys = await startRecorder((_q, r) => r.end(JSON.stringify({ signing_key: 'same-key' })));
    try {
      const settings = connectwiseSettingsSchema.parse({
        ...simulatorSettings(sim, { callback_key_host: keys.host }),
        signing_keys: { cache_entries: 2, cache_ttl_seconds: 3600, fetch_timeout_ms: 2000, max_bytes: 4096 },
      });
      const ctx = contextFor(sim, settings);
      const good = await signedCallback();
      for (const id of [1, 2, 3, 1])
        await connectwiseKind.verify(deliveryOf(withKeyUrl(good, `${keys.url}/key?id=${id}`)), ctx);
      // id=1 was evicted by id=3 (two entries), so it is fetched again: 4 fetches, not 3.
      expect(keys.received).toHaveLength(4);
    } finally {
      await keys.close();
    }
  });
});
