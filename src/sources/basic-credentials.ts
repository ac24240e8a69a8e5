import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * HTTP Basic credentials and shared secrets, compared in constant time whatever their lengths:
 * both sides are hashed to 32-byte SHA-256 digests first, so `timingSafeEqual` always compares
 * equal lengths and the time taken says nothing about the expected value.
 */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** `user:password` from an `Authorization: Basic <base64>` header, or undefined when there is none. */
export function basicCredentialsOf(authorization: string | string[] | undefined): string | undefined {
  const value = Array.isArray(authorization) ? authorization[0] : authorization;
  const encoded = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(value ?? '')?.[1];
  return encoded === undefined ? undefined : Buffer.from(encoded, 'base64').toString('utf8');
}
