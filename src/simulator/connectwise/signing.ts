import { createHash, createHmac } from 'node:crypto';

/**
 * How ConnectWise signs a callback (docs/sources.md "ConnectWise PSA"): base64 HMAC-SHA256 of the
 * raw body, keyed with the SHA-256 digest of the registration's signing key. Kept apart from the
 * receiver's code on purpose, so a mistake in one is not silently mirrored in the other.
 */
export function signCallback(signingKey: string, body: string): string {
  const key = createHash('sha256').update(signingKey, 'utf8').digest();
  return createHmac('sha256', key).update(body, 'utf8').digest('base64');
}
