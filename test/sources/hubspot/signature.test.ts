import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import { hubspotKind } from '../../../src/sources/hubspot/kind.js';
import { signV1, signV2, signV3, v3SignedUri } from '../../../src/sources/hubspot/signature.js';
import { hubspotContext } from './context.js';

const DOCS_SECRET = 'yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy';
const docsBody = readFileSync(
  new URL('../../fixtures/sources/hubspot/validating-requests-v1-body.json', import.meta.url),
);

const SECRET = 'client-secret-of-the-app';
const URL_SIGNED = 'https://onboard.example.com/webhooks/sources/hubspot-eu';
const ctx = hubspotContext({ secrets: { HUBSPOT_CLIENT_SECRET: SECRET, HUBSPOT_TOKEN: 'unused' } });

function delivery(headers: IncomingHttpHeaders, body: Buffer, receivedAt = Date.now(), signedUrl = URL_SIGNED) {
  return { method: 'POST', signedUrl, headers, rawBody: body, receivedAt };
}

function v3Headers(body: Buffer, timestamp: number, uri = URL_SIGNED, secret = SECRET): IncomingHttpHeaders {
  const ts = String(timestamp);
  return {
    'x-hubspot-signature-v3': signV3({ clientSecret: secret, method: 'POST', uri, body, timestamp: ts }),
    'x-hubspot-request-timestamp': ts,
  };
}

describe('HubSpot signatures: the documentation examples', () => {
  it('v1: the "Validating requests" example body and secret give the documented hash', () => {
    expect(signV1({ clientSecret: DOCS_SECRET, body: docsBody })).toBe(
      '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
    );
  });

  it('v2: the documented GET example gives the documented hash', () => {
    const hash = signV2({
      clientSecret: DOCS_SECRET,
      method: 'GET',
      uri: 'https://www.example.com/webhook_uri',
      body: Buffer.alloc(0),
    });
    expect(hash).toBe('eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e');
  });

  it('v1 request with the documented hash verifies through the kind, and a changed byte does not', async () => {
    const docsCtx = hubspotContext({ secrets: { HUBSPOT_CLIENT_SECRET: DOCS_SECRET, HUBSPOT_TOKEN: 'x' } });
    const headers = {
      'x-hubspot-signature': '232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de',
      'x-hubspot-signature-version': 'v1',
    };
    expect(await hubspotKind.verify(delivery(headers, docsBody), docsCtx)).toEqual({ ok: true });
    const tampered = Buffer.from(docsBody.toString().replace('"objectId":123', '"objectId":124'));
    expect((await hubspotKind.verify(delivery(headers, tampered), docsCtx)).ok).toBe(false);
  });

  it('v3 decodes only the characters HubSpot lists in the URI', () => {
    expect(v3SignedUri('https://h.example/hook?a=b%3Ac%2Fd%20e%25f%2a')).toBe(
      'https://h.example/hook?a=b:c/d%20e%25f*',
    );
  });
});

describe('HubSpot v3 signature', () => {
  const body = Buffer.from(
    '[{"eventId":7,"subscriptionId":1,"portalId":62515,"occurredAt":1,"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":9}]',
  );

  it('a fresh, matching signature over method, URL, body and timestamp is accepted', async () => {
    const now = Date.now();
    expect(hubspotKind.checkHeaders(v3Headers(body, now), ctx, now)).toEqual({ ok: true });
    expect(await hubspotKind.verify(delivery(v3Headers(body, now), body, now), ctx)).toEqual({ ok: true });
  });

  it('a query string with encoded characters verifies when HubSpot signed it decoded', async () => {
    const now = Date.now();
    const received = `${URL_SIGNED}?tag=a%3Ab`;
    const headers = v3Headers(body, now, `${URL_SIGNED}?tag=a:b`);
    expect(await hubspotKind.verify(delivery(headers, body, now, received), ctx)).toEqual({ ok: true });
  });

  it('a timestamp over 5 minutes old is refused from the headers alone', () => {
    const now = Date.now();
    const verdict = hubspotKind.checkHeaders(v3Headers(body, now - 5 * 60 * 1000 - 1), ctx, now);
    expect(verdict.ok).toBe(false);
    expect(verdict.ok || verdict.reason).toMatch(/over 5 minutes/);
  });

  it('a timestamp that is not milliseconds is refused from the headers alone', () => {
    const headers = { ...v3Headers(body, Date.now()), 'x-hubspot-request-timestamp': '2025-03-16T12:12:23' };
    expect(hubspotKind.checkHeaders(headers, ctx, Date.now()).ok).toBe(false);
  });

  it('a signature made with another secret (forged) is refused', async () => {
    const now = Date.now();
    const verdict = await hubspotKind.verify(delivery(v3Headers(body, now, URL_SIGNED, 'guessed'), body, now), ctx);
    expect(verdict).toEqual({ ok: false, reason: 'the v3 signature does not match' });
  });

  it('a tampered body, another URL or a replaced timestamp is refused', async () => {
    const now = Date.now();
    const headers = v3Headers(body, now);
    const tampered = Buffer.from(body.toString().replace('"objectId":9', '"objectId":8'));
    expect((await hubspotKind.verify(delivery(headers, tampered, now), ctx)).ok).toBe(false);
    expect((await hubspotKind.verify(delivery(headers, body, now, `${URL_SIGNED}x`), ctx)).ok).toBe(false);
    const moved = { ...headers, 'x-hubspot-request-timestamp': String(now - 1000) };
    expect((await hubspotKind.verify(delivery(moved, body, now), ctx)).ok).toBe(false);
  });

  it('no signature header at all, or a scheme the source does not accept, is refused from the headers', () => {
    expect(hubspotKind.checkHeaders({}, ctx, Date.now()).ok).toBe(false);
    const v3Only = hubspotContext({ settings: { signature_versions: ['v3'] } });
    const v1 = { 'x-hubspot-signature': signV1({ clientSecret: SECRET, body }), 'x-hubspot-signature-version': 'v1' };
    expect(hubspotKind.checkHeaders(v1, v3Only, Date.now())).toEqual({
      ok: false,
      reason: 'signature v1 is not accepted by this source',
    });
  });
});

describe('HubSpot signature versions a source accepts', () => {
  const body = Buffer.from('[]');

  it('a request carrying v3 and v1 (as app webhooks do) is checked as v1 by a source that accepts only v1', async () => {
    const now = Date.now();
    const headers = {
      ...v3Headers(body, now, URL_SIGNED, 'not-the-secret'),
      'x-hubspot-signature': signV1({ clientSecret: SECRET, body }),
      'x-hubspot-signature-version': 'v1',
    };
    const v1Only = hubspotContext({ settings: { signature_versions: ['v1'] }, secrets: ctx.secrets });
    expect(await hubspotKind.verify(delivery(headers, body, now), v1Only)).toEqual({ ok: true });
    expect(await hubspotKind.verify(delivery(headers, body, now), ctx)).toEqual({
      ok: false,
      reason: 'the v3 signature does not match',
    });
  });
});

describe('HubSpot signature with no secret', () => {
  it('an empty client secret refuses every request rather than accept one signed with ""', async () => {
    const body = Buffer.from('[]');
    const headers = { 'x-hubspot-signature': signV1({ clientSecret: '', body }), 'x-hubspot-signature-version': 'v1' };
    const empty = hubspotContext({ secrets: { HUBSPOT_CLIENT_SECRET: '', HUBSPOT_TOKEN: 'x' } });
    expect(await hubspotKind.verify(delivery(headers, body), empty)).toEqual({
      ok: false,
      reason: 'HUBSPOT_CLIENT_SECRET is empty',
    });
  });
});

describe('HubSpot v2 signature', () => {
  const body = Buffer.from('{"dealId":9,"portalId":62515}');

  it('secret + method + URL + body, hex SHA-256, is accepted; another URL is not', async () => {
    const headers = {
      'x-hubspot-signature': signV2({ clientSecret: SECRET, method: 'POST', uri: URL_SIGNED, body }),
      'x-hubspot-signature-version': 'v2',
    };
    expect(await hubspotKind.verify(delivery(headers, body), ctx)).toEqual({ ok: true });
    const elsewhere = delivery(headers, body, Date.now(), 'https://proxy.internal/webhooks/sources/hubspot-eu');
    expect((await hubspotKind.verify(elsewhere, ctx)).ok).toBe(false);
  });
});
