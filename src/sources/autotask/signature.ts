import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Verdict } from '../kind.js';

/**
 * Autotask's callout signature (docs/sources.md "Autotask PSA", the signature; Autotask,
 * "Secret key and payload verification",
 * https://ww1.autotask.net/help/DeveloperHelp/Content/APIs/Webhooks/SecretKeyPayloadVerification.htm):
 * `X-Hook-Signature: sha1=<base64 HMAC-SHA1 of the request body, keyed with the webhook's SecretKey>`.
 */

/** `sha1=` and the 28 base64 characters of a 20-byte digest. */
const SIGNATURE = /^sha1=([A-Za-z0-9+/]{27}=)$/;

function header(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-hook-signature'];
  return (Array.isArray(value) ? value[0] : value)?.trim();
}

export function checkSignatureHeader(headers: IncomingHttpHeaders): Verdict {
  const value = header(headers);
  if (value === undefined) return { ok: false, reason: 'no X-Hook-Signature header' };
  if (!SIGNATURE.test(value)) return { ok: false, reason: 'X-Hook-Signature is not sha1=<base64 HMAC-SHA1>' };
  return { ok: true };
}

export function verifyHookSignature(headers: IncomingHttpHeaders, rawBody: Buffer, secretKey: string): Verdict {
  // An empty key would make every signature computable by anyone.
  if (secretKey === '') return { ok: false, reason: 'the webhook secret key is empty' };
  const given = SIGNATURE.exec(header(headers) ?? '')?.[1];
  if (given === undefined) return { ok: false, reason: 'no usable X-Hook-Signature' };
  const expected = createHmac('sha1', secretKey).update(rawBody).digest();
  const decoded = Buffer.from(given, 'base64');
  return decoded.length === expected.length && timingSafeEqual(decoded, expected)
    ? { ok: true }
    : { ok: false, reason: 'X-Hook-Signature does not match the body' };
}
