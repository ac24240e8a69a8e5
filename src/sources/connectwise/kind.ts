import type { IncomingHttpHeaders } from 'node:http';
import type { KindContext, SourceKind, Verdict } from '../kind.js';
import { keyUrlOf, parseCallback } from './callback.js';
import { authHeaders, ConnectWiseClient, credentialsOf } from './client.js';
import { checkKeyUrl } from './key-url.js';
import { readRecord } from './record.js';
import { connectwiseSettingsSchema, trustedKeyHost, type ConnectWiseSettings } from './settings.js';
import { SIGNATURE_PATTERN, signatureMatches } from './signature.js';
import { SigningKeyCache } from './signing-keys.js';
import { writeResult } from './write-back.js';

/**
 * ConnectWise PSA (Manage) callbacks: `x-content-signature` over the raw body, keyed from the
 * signing key behind the callback's own `Metadata.key_url`, which is fetched only from the
 * configured host (docs/sources.md "ConnectWise PSA").
 */

/** One key cache per source and its limits, for the life of the process. */
const keyCaches = new Map<string, SigningKeyCache>();

function keyCacheFor(ctx: KindContext<ConnectWiseSettings>): SigningKeyCache {
  const limits = ctx.settings.signing_keys;
  const id = JSON.stringify([ctx.source, limits, ctx.settings.allow_insecure_test_host]);
  let cache = keyCaches.get(id);
  if (!cache) {
    cache = new SigningKeyCache({
      entries: limits.cache_entries,
      ttlMs: limits.cache_ttl_seconds * 1000,
      timeoutMs: limits.fetch_timeout_ms,
      maxBytes: limits.max_bytes,
      allowInternal: ctx.settings.allow_insecure_test_host,
    });
    keyCaches.set(id, cache);
  }
  return cache;
}

function signatureHeader(headers: IncomingHttpHeaders): string | undefined {
  const value = headers['x-content-signature'];
  return typeof value === 'string' ? value.trim() : undefined;
}

async function verifyDelivery(
  rawBody: Buffer,
  headers: IncomingHttpHeaders,
  ctx: KindContext<ConnectWiseSettings>,
): Promise<Verdict> {
  const signature = signatureHeader(headers);
  if (signature === undefined || !SIGNATURE_PATTERN.test(signature))
    return { ok: false, reason: 'no usable x-content-signature' };
  const rule = { host: trustedKeyHost(ctx.settings), allowInsecureTestHost: ctx.settings.allow_insecure_test_host };
  const keyUrl = checkKeyUrl(keyUrlOf(rawBody), rule);
  if (!keyUrl.ok) return { ok: false, reason: `key_url refused, nothing fetched: ${keyUrl.reason}` };
  let signingKey: string;
  try {
    signingKey = await keyCacheFor(ctx).get(
      keyUrl.url,
      authHeaders(credentialsOf(ctx.settings, ctx.secrets, ctx.source)),
    );
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : 'signing key unavailable' };
  }
  return signatureMatches(signingKey, rawBody, signature)
    ? { ok: true }
    : { ok: false, reason: 'x-content-signature does not match the body' };
}

export const connectwiseKind: SourceKind<ConnectWiseSettings> = {
  kind: 'connectwise',
  settingsSchema: connectwiseSettingsSchema,
  secretNames: (settings) => [
    settings.api.company_id_env,
    settings.api.public_key_env,
    settings.api.private_key_env,
    settings.api.client_id_env,
  ],
  // ConnectWise documents no retry schedule for callbacks; see docs/sources.md for this reading.
  answers: { accepted: 200, unauthenticated: 401, unreadable: 400 },
  checkHeaders: (headers) => {
    const signature = signatureHeader(headers);
    if (signature === undefined) return { ok: false, reason: 'no x-content-signature header' };
    if (!SIGNATURE_PATTERN.test(signature))
      return { ok: false, reason: 'x-content-signature is not a base64 HMAC-SHA256' };
    return { ok: true };
  },
  verify: (delivery, ctx) => verifyDelivery(delivery.rawBody, delivery.headers, ctx),
  parse: (delivery) => parseCallback(delivery.rawBody),
  readBack: (event, ctx) => readRecord(event, new ConnectWiseClient(ctx)),
  writeBack: (target, result, ctx) =>
    writeResult(new ConnectWiseClient(ctx), ctx.settings.write_back, target, result, ctx.source),
  checkApi: async (ctx) => {
    await new ConnectWiseClient(ctx).systemInfo();
  },
};
