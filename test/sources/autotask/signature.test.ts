import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { signCallout } from '../../../src/simulator/autotask/signing.js';
import { checkSignatureHeader, verifyHookSignature } from '../../../src/sources/autotask/signature.js';

/**
 * Autotask's `X-Hook-Signature: sha1=<base64 HMAC-SHA1(SecretKey, body)>` ("Secret key and payload
 * verification"). The known answer was computed with OpenSSL, apart from both our signer and our
 * verifier: `openssl dgst -sha1 -hmac autotask-secret-key-0123456789 -binary < callout-ticket-create.json | base64`.
 */

const body = readFileSync(new URL('../../fixtures/sources/autotask/callout-ticket-create.json', import.meta.url));
const key = 'autotask-secret-key-0123456789';
const KNOWN = 'sha1=pbTW0zpeLJdMHDyTdLJ77ckqeEc=';
const headers = (value?: string) => (value === undefined ? {} : { 'x-hook-signature': value });

describe('Autotask callout signature', () => {
  it('accepts the known answer, and the simulated Autotask signs the same', () => {
    expect(verifyHookSignature(headers(KNOWN), body, key)).toEqual({ ok: true });
    expect(signCallout(key, body.toString('utf8'))).toBe(KNOWN);
  });

  it("the header rule takes the form of Autotask's own example", () => {
    expect(checkSignatureHeader(headers('sha1=UaDXFl2DRDu9dnINVkFle7y5uAE='))).toEqual({ ok: true });
  });

  it('refuses another key, a changed body, hex instead of base64, no prefix, no header and an empty key', () => {
    expect(verifyHookSignature(headers(KNOWN), body, `${key}x`)).toMatchObject({ ok: false });
    expect(verifyHookSignature(headers(KNOWN), Buffer.concat([body, Buffer.from(' ')]), key)).toMatchObject({
      ok: false,
    });
    const hex = Buffer.from(KNOWN.slice(5), 'base64').toString('hex');
    expect(checkSignatureHeader(headers(`sha1=${hex}`))).toMatchObject({ ok: false });
    expect(checkSignatureHeader(headers(KNOWN.slice(5)))).toMatchObject({ ok: false });
    expect(checkSignatureHeader(headers())).toMatchObject({ ok: false, reason: 'no X-Hook-Signature header' });
    expect(verifyHookSignature(headers(signCallout('', body.toString())), body, '')).toMatchObject({ ok: false });
  });

  it('SHA-256 in the SHA-1 header is refused: the lengths differ, and nothing throws', () => {
    const sha256 = `sha1=${Buffer.alloc(32, 1).toString('base64')}`;
    expect(checkSignatureHeader(headers(sha256))).toMatchObject({ ok: false });
    expect(verifyHookSignature(headers(sha256), body, key)).toMatchObject({ ok: false });
  });
});
