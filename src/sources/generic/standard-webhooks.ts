import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Verdict } from '../kind.js';

/**
 * Standard Webhooks, symmetric scheme (docs/sources.md "Generic JSON"; the specification's
 * "Signature scheme", "Webhook headers" and "Verifying signatures"): the sender signs
 * `{webhook-id}.{webhook-timestamp}.{raw body}` with HMAC-SHA256 under a `whsec_<base64>` secret
 * and sends `webhook-signature: v1,<base64> [v1,<base64> …]`, several during a key rotation.
 * Signatures of other versions (`v1a`, asymmetric) are skipped, not refused.
 */

/** The replay window either side of our clock, as the reference libraries use. */
export const TOLERANCE_SEC = 5 * 60;
/** A header with more candidates than this is refused rather than costing an HMAC each. */
const MAX_SIGNATURES = 8;
/** The spec asks that the id holds no `.` (it is a delimiter of the signed content). */
const WEBHOOK_ID = /^[\x21-\x2d\x2f-\x7e]{1,200}$/;

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

/** A secret as the spec serialises it: `whsec_` and base64 (the prefix optional, as the libraries accept). */
export function secretKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
}

/** Whether a configured secret is one: base64 of 24 to 64 bytes (the spec's bounds for symmetric keys). */
export function isSecret(secret: string): boolean {
  const body = secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret;
  const bytes = Buffer.from(body, 'base64').length;
  return /^[A-Za-z0-9+/]+={0,2}$/.test(body) && bytes >= 24 && bytes <= 64;
}

export function signStandardWebhook(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  const mac = createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64');
  return `v1,${mac}`;
}

/** The headers alone: id, timestamp within the window, at least one well-formed v1 signature. */
export function checkStandardHeaders(headers: IncomingHttpHeaders, now: number): Verdict {
  const id = one(headers['webhook-id']);
  const timestamp = one(headers['webhook-timestamp']);
  const signature = one(headers['webhook-signature']);
  if (id === undefined || timestamp === undefined || signature === undefined)
    return { ok: false, reason: 'webhook-id, webhook-timestamp and webhook-signature are required' };
  if (!WEBHOOK_ID.test(id)) return { ok: false, reason: 'webhook-id is not 1–200 visible characters without "."' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not unix seconds' };
  const age = Math.floor(now / 1000) - Number(timestamp);
  if (age > TOLERANCE_SEC) return { ok: false, reason: `webhook-timestamp is ${age} s old (at most ${TOLERANCE_SEC})` };
  if (age < -TOLERANCE_SEC) return { ok: false, reason: 'webhook-timestamp is in the future' };
  const candidates = v1Signatures(signature);
  if (candidates === undefined)
    return { ok: false, reason: `webhook-signature holds more than ${MAX_SIGNATURES} values` };
  if (candidates.length === 0) return { ok: false, reason: 'webhook-signature holds no v1,<base64> value' };
  return { ok: true };
}

/** Over the raw bytes: any v1 value matching any secret, compared in constant time. */
export function verifyStandardWebhook(
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  secrets: readonly string[],
  now: number,
): Verdict {
  const precheck = checkStandardHeaders(headers, now);
  if (!precheck.ok) return precheck;
  const id = one(headers['webhook-id']) as string;
  const timestamp = Number(one(headers['webhook-timestamp']));
  const candidates = v1Signatures(one(headers['webhook-signature']) as string) ?? [];
  for (const secret of secrets) {
    const expected = Buffer.from(signStandardWebhook(secret, id, timestamp, rawBody).slice(3), 'base64');
    if (candidates.some((c) => c.length === expected.length && timingSafeEqual(c, expected))) return { ok: true };
  }
  return { ok: false, reason: 'no webhook-signature value matches' };
}

function v1Signatures(header: string): Buffer[] | undefined {
  const values = header.trim().split(/\s+/);
  if (values.length > MAX_SIGNATURES) return undefined;
  return values.flatMap((v) => {
    const [version, mac] = v.split(',', 2);
    return version === 'v1' && mac && /^[A-Za-z0-9+/]+={0,2}$/.test(mac) ? [Buffer.from(mac, 'base64')] : [];
  });
}
