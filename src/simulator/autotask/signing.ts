import { createHmac } from 'node:crypto';

/**
 * How Autotask signs a callout ("Secret key and payload verification"): `sha1=` and the base64
 * HMAC-SHA1 of the body keyed with the webhook's SecretKey. Kept apart from the receiver's code on
 * purpose, so a mistake in one is not silently mirrored in the other.
 */
export function signCallout(secretKey: string, body: string): string {
  return `sha1=${createHmac('sha1', Buffer.from(secretKey, 'utf8')).update(Buffer.from(body, 'utf8')).digest('base64')}`;
}
