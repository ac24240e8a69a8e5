import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The webhook signature (docs/webhook.md "Signature"), Stripe's scheme (docs/bullmq.md §5.1):
 *
 *   X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>[,v1=<hex>…]
 *
 * Several `v1` values let a sender sign with its old and new secret while a rotation is under
 * way; any one matching any of the receiver's secrets is enough. Other schemes (`v0=`, `v2=`)
 * are ignored, as Stripe's libraries do, so a future scheme can be added beside `v1`.
 * The same function signs our own batch callbacks.
 */

/** Stripe's default tolerance: a signature older than this is refused (docs/webhook.md "Signature"). */
export const SIGNATURE_TOLERANCE_SEC = 300;
/**
 * How far in the future a timestamp may be. Clocks synced by NTP differ by milliseconds; a
 * minute forgives a badly synced sender while not stretching the replay window much
 * (a symmetric 5 minutes would let one signature be replayed for 10).
 */
export const SIGNATURE_FUTURE_SKEW_SEC = 60;
/** A header carrying more candidates than this is refused rather than costing an HMAC per value. */
const MAX_SIGNATURES = 8;

export type SignatureFailure = 'missing' | 'malformed' | 'stale' | 'future' | 'mismatch';

export type SignatureCheck = { ok: true; timestamp: number } | { ok: false; reason: SignatureFailure; message: string };

/** `t=…,v1=…` for `body` signed at `t` with each secret (the current one first). */
export function signPayload(
  secret: string | readonly string[],
  body: string | Buffer,
  t: number = Math.floor(Date.now() / 1000),
): string {
  const secrets = typeof secret === 'string' ? [secret] : secret;
  if (secrets.length === 0) throw new Error('signPayload needs at least one secret');
  return [`t=${t}`, ...secrets.map((s) => `v1=${hmac(s, t, body).toString('hex')}`)].join(',');
}

export interface VerifySignatureInput {
  header: string | string[] | undefined;
  rawBody: Buffer | string;
  /** The secrets accepted: the current one and, during a rotation, the previous one. */
  secrets: readonly string[];
  /** Unix seconds; the receiver's clock. */
  now?: number;
  toleranceSec?: number;
  futureSkewSec?: number;
}

/**
 * Checks the header against the raw bytes of the body, in constant time per candidate. (The
 * webhook refuses a missing, malformed or out-of-window header before the body arrives, with
 * precheckSignature: the timestamp window is no secret.)
 */
export function verifySignature(input: VerifySignatureInput): SignatureCheck {
  const header = Array.isArray(input.header) ? input.header.join(',') : input.header;
  if (header === undefined || header.trim() === '') return fail('missing', 'the X-Signature header is missing');
  const parsed = parseSignatureHeader(header);
  if (!parsed) return fail('malformed', 'the X-Signature header is not t=<unix seconds>,v1=<hex HMAC-SHA256>');
  const { timestamp, signatures } = parsed;

  const matched = input.secrets.some((secret) => {
    const expected = hmac(secret, timestamp, input.rawBody);
    // Every candidate is compared (no early exit on the first miss) and only equal lengths
    // reach timingSafeEqual, which throws otherwise.
    let found = false;
    for (const candidate of signatures) {
      if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) found = true;
    }
    return found;
  });
  if (!matched) return fail('mismatch', 'no v1 signature matches the body');

  return checkWindow(
    timestamp,
    input.now ?? Math.floor(Date.now() / 1000),
    input.toleranceSec ?? SIGNATURE_TOLERANCE_SEC,
    input.futureSkewSec ?? SIGNATURE_FUTURE_SKEW_SEC,
  );
}

/**
 * What can be judged before the body arrives: the header is there, of the scheme, and its
 * timestamp inside the window. A request failing this is refused without reading its body.
 */
export function precheckSignature(
  header: string | string[] | undefined,
  now: number = Math.floor(Date.now() / 1000),
): SignatureCheck {
  const value = Array.isArray(header) ? header.join(',') : header;
  if (value === undefined || value.trim() === '') return fail('missing', 'the X-Signature header is missing');
  const parsed = parseSignatureHeader(value);
  if (!parsed) return fail('malformed', 'the X-Signature header is not t=<unix seconds>,v1=<hex HMAC-SHA256>');
  return checkWindow(parsed.timestamp, now, SIGNATURE_TOLERANCE_SEC, SIGNATURE_FUTURE_SKEW_SEC);
}

function checkWindow(timestamp: number, now: number, tolerance: number, skew: number): SignatureCheck {
  if (now - timestamp > tolerance)
    return fail('stale', `the signature timestamp is more than ${tolerance} s old (check the sender's clock)`);
  if (timestamp - now > skew)
    return fail('future', `the signature timestamp is more than ${skew} s in the future (check the sender's clock)`);
  return { ok: true, timestamp };
}

/** `t` and the decoded `v1` values, or null when the header is not of the scheme. */
export function parseSignatureHeader(header: string): { timestamp: number; signatures: Buffer[] } | null {
  let timestamp: number | undefined;
  const signatures: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) return null;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't') {
      if (timestamp !== undefined || !/^\d{1,12}$/.test(value)) return null;
      timestamp = Number(value);
    } else if (key === 'v1') {
      if (!/^[0-9a-fA-F]{64}$/.test(value)) return null;
      signatures.push(Buffer.from(value, 'hex'));
    }
  }
  if (timestamp === undefined || signatures.length === 0 || signatures.length > MAX_SIGNATURES) return null;
  return { timestamp, signatures };
}

function hmac(secret: string, t: number, body: string | Buffer): Buffer {
  return createHmac('sha256', secret).update(`${t}.`).update(body).digest();
}

function fail(reason: SignatureFailure, message: string): SignatureCheck {
  return { ok: false, reason, message };
}
