import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Verdict } from '../kind.js';

/**
 * HubSpot's request signatures (docs/sources.md "HubSpot", signature scheme):
 * - v3: `X-HubSpot-Signature-v3` = base64 HMAC-SHA256, keyed with the app's client secret, of
 *   method + URI + body + `X-HubSpot-Request-Timestamp` (ms); refused when over 5 minutes old.
 * - v2: `X-HubSpot-Signature` (with `X-HubSpot-Signature-Version: v2`) = hex SHA-256 of
 *   secret + method + URI + body.
 * - v1: the same header with version v1 = hex SHA-256 of secret + body.
 */
export type SignatureVersion = 'v1' | 'v2' | 'v3';

export const V3_HEADER = 'x-hubspot-signature-v3';
export const TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';
export const SIGNATURE_HEADER = 'x-hubspot-signature';
export const VERSION_HEADER = 'x-hubspot-signature-version';

/** HubSpot's replay window for v3 (its own validator uses 300,000 ms). */
export const MAX_AGE_MS = 5 * 60 * 1000;

/**
 * The characters HubSpot's v3 instructions say to decode in the request URI before signing.
 * Only these: a `%20` or `%25` stays encoded, as it does in what HubSpot signs.
 */
const V3_DECODED: Readonly<Record<string, string>> = {
  '%3A': ':',
  '%2F': '/',
  '%3F': '?',
  '%40': '@',
  '%21': '!',
  '%24': '$',
  '%27': "'",
  '%28': '(',
  '%29': ')',
  '%2A': '*',
  '%2C': ',',
  '%3B': ';',
};

/** The URI as v3 signs it: the listed percent-escapes decoded (either case of hex digit). */
export function v3SignedUri(uri: string): string {
  return uri.replace(
    /%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi,
    (escape) => V3_DECODED[escape.toUpperCase()] ?? escape,
  );
}

export interface SignInput {
  clientSecret: string;
  method: string;
  uri: string;
  body: Buffer;
  /** Milliseconds since the epoch, as the header carries it (v3 only). */
  timestamp?: string;
}

export function signV3(input: SignInput): string {
  return createHmac('sha256', input.clientSecret)
    .update(
      Buffer.concat([
        Buffer.from(input.method + v3SignedUri(input.uri)),
        input.body,
        Buffer.from(input.timestamp ?? ''),
      ]),
    )
    .digest('base64');
}

export function signV2(input: SignInput): string {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(input.clientSecret + input.method + input.uri), input.body]))
    .digest('hex');
}

export function signV1(input: Pick<SignInput, 'clientSecret' | 'body'>): string {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(input.clientSecret), input.body]))
    .digest('hex');
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The version `X-HubSpot-Signature` is in; HubSpot's v1 page: a request without the version header is v1. */
function olderVersion(headers: IncomingHttpHeaders): SignatureVersion | undefined {
  if (header(headers, SIGNATURE_HEADER) === undefined) return undefined;
  const version = header(headers, VERSION_HEADER)?.trim().toLowerCase();
  if (version === undefined || version === 'v1') return 'v1';
  return version === 'v2' ? 'v2' : undefined;
}

/**
 * The scheme to check: v3 when its header is there and the source accepts it (HubSpot sends the
 * older signature beside v3), else the older one; a version the source does not accept is named.
 */
export function claimedVersion(
  headers: IncomingHttpHeaders,
  accepted: readonly SignatureVersion[],
): SignatureVersion | undefined {
  const hasV3 = header(headers, V3_HEADER) !== undefined;
  if (hasV3 && accepted.includes('v3')) return 'v3';
  return olderVersion(headers) ?? (hasV3 ? 'v3' : undefined);
}

/**
 * What can be decided before the body is read: a signature header is there, in a scheme the
 * source accepts, and a v3 timestamp is a number within 5 minutes of `now`.
 */
export function checkSignatureHeaders(
  headers: IncomingHttpHeaders,
  accepted: readonly SignatureVersion[],
  now: number,
): Verdict {
  const version = claimedVersion(headers, accepted);
  if (!version)
    return { ok: false, reason: 'no HubSpot signature header (X-HubSpot-Signature-v3 or X-HubSpot-Signature)' };
  if (!accepted.includes(version)) return { ok: false, reason: `signature ${version} is not accepted by this source` };
  if (version !== 'v3') return { ok: true };
  const timestamp = header(headers, TIMESTAMP_HEADER);
  if (!timestamp || !/^\d{1,16}$/.test(timestamp)) {
    return { ok: false, reason: 'X-HubSpot-Request-Timestamp is missing or not milliseconds' };
  }
  const age = now - Number(timestamp);
  // HubSpot refuses only "older than 5 minutes"; a timestamp as far in the future is refused too (clock skew bound).
  if (age > MAX_AGE_MS || age < -MAX_AGE_MS) {
    return { ok: false, reason: `X-HubSpot-Request-Timestamp is ${Math.round(age / 1000)} s from now, over 5 minutes` };
  }
  return { ok: true };
}

function sameDigest(given: string, expected: string, encoding: 'base64' | 'hex'): boolean {
  const a = Buffer.from(given.trim(), encoding);
  const b = Buffer.from(expected, encoding);
  return a.length === b.length && timingSafeEqual(a, b);
}

export interface VerifyInput {
  headers: IncomingHttpHeaders;
  method: string;
  /** The public URL HubSpot called (what it signed), with the query string as received. */
  uri: string;
  body: Buffer;
  clientSecret: string;
  accepted: readonly SignatureVersion[];
  now: number;
}

/** The whole check, constant-time over the digest: headers first, then the signature over the raw bytes. */
export function verifySignature(input: VerifyInput): Verdict {
  const fromHeaders = checkSignatureHeaders(input.headers, input.accepted, input.now);
  if (!fromHeaders.ok) return fromHeaders;
  const version = claimedVersion(input.headers, input.accepted) as SignatureVersion;
  const sign = {
    clientSecret: input.clientSecret,
    method: input.method.toUpperCase(),
    uri: input.uri,
    body: input.body,
  };
  const ok =
    version === 'v3'
      ? sameDigest(
          header(input.headers, V3_HEADER) ?? '',
          signV3({ ...sign, timestamp: header(input.headers, TIMESTAMP_HEADER) }),
          'base64',
        )
      : sameDigest(
          header(input.headers, SIGNATURE_HEADER) ?? '',
          version === 'v2' ? signV2(sign) : signV1(sign),
          'hex',
        );
  return ok ? { ok: true } : { ok: false, reason: `the ${version} signature does not match` };
}
