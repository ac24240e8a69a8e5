import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { signPayload, verifySignature } from '../../src/producers/webhook-signature.js';

const run = promisify(execFile);
const secret = 'whsec-test-0123456789abcdef';
const body = Buffer.from('{"name":"Acme GmbH","email":"it@acme.example"}');
const now = 1_790_000_000;

describe('the webhook signature (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">)', () => {
  it('is what docs/webhook.md computes in the shell with openssl', async () => {
    const script = 'printf "%s.%s" "$T" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" | sed "s/^.* //"';
    const { stdout } = await run('sh', ['-c', script], {
      env: { PATH: process.env.PATH ?? '', T: String(now), BODY: body.toString(), SECRET: secret },
    });
    expect(signPayload(secret, body, now)).toBe(`t=${now},v1=${stdout.trim()}`);
  });

  it('verifies its own signature, on the raw bytes only', () => {
    const header = signPayload(secret, body, now);
    expect(verifySignature({ header, rawBody: body, secrets: [secret], now })).toEqual({ ok: true, timestamp: now });
    // The same JSON, re-serialised with a space: a different body.
    const reserialised = Buffer.from('{"name": "Acme GmbH","email":"it@acme.example"}');
    expect(verifySignature({ header, rawBody: reserialised, secrets: [secret], now })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifySignature({ header, rawBody: body, secrets: ['another-secret-of-16+chars'], now })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('accepts 5 minutes in the past and 60 s in the future, not a second more', () => {
    const at = (t: number) =>
      verifySignature({ header: signPayload(secret, body, t), rawBody: body, secrets: [secret], now });
    expect(at(now - 300).ok).toBe(true);
    expect(at(now - 301)).toMatchObject({ ok: false, reason: 'stale' });
    expect(at(now + 60).ok).toBe(true);
    expect(at(now + 61)).toMatchObject({ ok: false, reason: 'future' });
  });

  it('reports a stale timestamp only to a holder of the secret', () => {
    const stale = signPayload('not-the-secret-at-all', body, now - 3600);
    expect(verifySignature({ header: stale, rawBody: body, secrets: [secret], now })).toMatchObject({
      ok: false,
      reason: 'mismatch',
    });
  });

  it("rotation: any v1 value may match, and any of the receiver's secrets", () => {
    const old = 'the-old-secret-0123456789';
    const both = signPayload([old, secret], body, now);
    expect(both.split(',')).toHaveLength(3);
    expect(verifySignature({ header: both, rawBody: body, secrets: [secret], now }).ok).toBe(true);
    expect(
      verifySignature({ header: signPayload(old, body, now), rawBody: body, secrets: [secret, old], now }).ok,
    ).toBe(true);
    // An unknown scheme beside v1 is ignored; spaces and upper-case hex are tolerated.
    const [, v1] = signPayload(secret, body, now).split(',');
    expect(
      verifySignature({
        header: `t=${now}, v0=abc, ${v1!.toUpperCase().replace('V1', 'v1')}`,
        rawBody: body,
        secrets: [secret],
        now,
      }).ok,
    ).toBe(true);
  });

  it.each([
    ['missing', undefined],
    ['missing', ''],
    ['malformed', 'garbage'],
    ['malformed', `t=${now}`],
    ['malformed', 'v1=' + 'a'.repeat(64)],
    ['malformed', `t=soon,v1=${'a'.repeat(64)}`],
    ['malformed', `t=${now},v1=xyz`],
    ['malformed', `t=${now},v1=${'a'.repeat(62)}`],
    ['malformed', `t=${now},t=${now},v1=${'a'.repeat(64)}`],
    ['malformed', `t=${now},${Array.from({ length: 9 }, () => `v1=${'a'.repeat(64)}`).join(',')}`],
    ['mismatch', `t=${now},v1=${'a'.repeat(64)}`],
  ])('refuses a %s header: %s', (reason, header) => {
    expect(verifySignature({ header, rawBody: body, secrets: [secret], now })).toMatchObject({ ok: false, reason });
  });
});
