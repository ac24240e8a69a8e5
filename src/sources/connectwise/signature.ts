import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * ConnectWise signs a callback's raw body with HMAC-SHA256 and sends it base64 in
 * `x-content-signature`. The HMAC key is the SHA-256 digest of the signing key that the
 * callback's `Metadata.key_url` serves, not the key itself: the reading three independent
 * receivers implement (docs/sources.md "ConnectWise PSA", signature scheme).
 */
export function connectwiseSignature(signingKey: string, rawBody: Buffer): string {
  const hmacKey = createHash('sha256').update(signingKey, 'utf8').digest();
  return createHmac('sha256', hmacKey).update(rawBody).digest('base64');
}

/** A base64 HMAC-SHA256 is 44 characters; anything else cannot be one. */
export const SIGNATURE_PATTERN = /^[A-Za-z0-9+/]{43}=$/;

/** Constant-time over equal lengths; a different length is refused without comparing. */
export function signatureMatches(signingKey: string, rawBody: Buffer, received: string): boolean {
  const expected = Buffer.from(connectwiseSignature(signingKey, rawBody));
  const given = Buffer.from(received);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
