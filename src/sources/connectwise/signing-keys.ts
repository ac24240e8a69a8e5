import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import got, { type Got } from 'got';
import { z } from 'zod';
import { isPublicAddress } from './key-url.js';

/**
 * The signing keys behind callbacks' `Metadata.key_url`, fetched once per URL and kept in this
 * process only (never Redis): many callbacks of one registration share one key, so a burst costs
 * one fetch. Bounded by entries and age; a fetch in flight is shared by its concurrent callers.
 */

export interface SigningKeyLimits {
  entries: number;
  ttlMs: number;
  timeoutMs: number;
  maxBytes: number;
  /** Test only: the configured host may resolve to loopback or internal addresses. */
  allowInternal: boolean;
}

/** Why a key could not be had; its message names the reason, never the key or our credentials. */
export class SigningKeyError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'SigningKeyError';
  }
}

const keyResponseSchema = z.object({ signing_key: z.string().min(1).max(1024) });

/**
 * DNS answers checked where the socket is opened, so a name that resolves (or rebinds) to an
 * internal address is refused, not just a literal one.
 */
function publicOnlyLookup(hostname: string, options: LookupOptions, callback: (...args: unknown[]) => void): void {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
    if (error) return callback(error);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) return callback(new SigningKeyError(`key_url host resolves to a non-public address`));
    if (options.all) return callback(null, addresses);
    const first = addresses[0];
    if (!first) return callback(new SigningKeyError('key_url host has no address'));
    return callback(null, first.address, first.family);
  });
}

export class SigningKeyCache {
  private readonly keys = new Map<string, { key: string; expiresAt: number }>();
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly http: Got;

  constructor(private readonly limits: SigningKeyLimits) {
    this.http = got.extend({
      followRedirect: false,
      retry: { limit: 0 },
      throwHttpErrors: false,
      timeout: { request: limits.timeoutMs },
      ...(limits.allowInternal ? {} : { dnsLookup: publicOnlyLookup as unknown as LookupFunction }),
    });
  }

  /** How many keys are held now (for tests and the bound). */
  get size(): number {
    return this.keys.size;
  }

  async get(url: URL, headers: Record<string, string>, now = Date.now()): Promise<string> {
    const href = url.href;
    const held = this.keys.get(href);
    if (held && held.expiresAt > now) return held.key;
    if (held) this.keys.delete(href);
    const pending = this.inFlight.get(href) ?? this.fetchAndKeep(href, headers);
    this.inFlight.set(href, pending);
    try {
      return await pending;
    } finally {
      this.inFlight.delete(href);
    }
  }

  private async fetchAndKeep(href: string, headers: Record<string, string>): Promise<string> {
    const key = await this.fetchKey(href, headers);
    this.keys.set(href, { key, expiresAt: Date.now() + this.limits.ttlMs });
    while (this.keys.size > this.limits.entries) {
      const oldest = this.keys.keys().next().value as string;
      this.keys.delete(oldest);
    }
    return key;
  }

  private async fetchKey(href: string, headers: Record<string, string>): Promise<string> {
    const request = this.http.get(href, { headers: { ...headers, accept: 'application/json' } });
    let oversize = false;
    request.on('downloadProgress', (progress: { transferred: number }) => {
      if (progress.transferred <= this.limits.maxBytes) return;
      oversize = true;
      request.cancel();
    });
    let response;
    try {
      response = await request;
    } catch (error) {
      throw new SigningKeyError(
        oversize ? 'signing key answer over the size cap' : `signing key fetch failed: ${reasonOf(error)}`,
      );
    }
    if (response.statusCode !== 200) throw new SigningKeyError(`signing key fetch answered ${response.statusCode}`);
    if (Buffer.byteLength(response.body) > this.limits.maxBytes)
      throw new SigningKeyError('signing key answer over the size cap');
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      throw new SigningKeyError('signing key answer is not JSON');
    }
    const parsed = keyResponseSchema.safeParse(body);
    if (!parsed.success) throw new SigningKeyError('signing key answer has no signing_key');
    return parsed.data.signing_key;
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof SigningKeyError) return error.message;
  // got wraps what our DNS guard threw; its reason is the one a person needs.
  if (error instanceof Error && error.cause instanceof SigningKeyError) return error.cause.message;
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.name : 'unknown error';
}
