import { createHash, randomUUID } from 'node:crypto';
import type { RedisConnection } from '../redis/connection.js';
import type { TokenCacheKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import type { Logger } from '../logger.js';
import { silentLogger } from '../logger.js';
import { SecretBoxError, type SecretBox } from '../secrets/secret-box.js';

/**
 * The one Acronis access token shared by every worker process on every host, so the platform
 * sees one `POST /idp/token` per token lifetime. The token is kept sealed; one caller issues
 * under a lock while the others poll (docs/architecture.md "The token cache").
 */

export interface IssuedToken {
  accessToken: string;
  /** Epoch ms. */
  expiresAt: number;
}

export interface TokenCacheOptions {
  redis: RedisConnection;
  /** The token is stored only sealed. */
  box: SecretBox;
  /** From RedisKeys.tokenCache(baseUrl, clientId, clientSecret). */
  keys: TokenCacheKeys;
  /** Calls /idp/token; injected so the cache knows nothing of HTTP. */
  issue: () => Promise<IssuedToken>;
  /**
   * Refresh when less than this remains, default 15 min (the renewal habit of Acronis's own
   * samples, docs/acronis-api.md §2.2). Capped at a quarter of the token's lifetime, so a
   * short-lived token (a 6 s test token, an IdP configured for minutes) is used for three
   * quarters of its life instead of being re-issued on every call.
   */
  refreshMarginMs?: number;
  /**
   * How long the issuing caller holds the lock, default 15 s. A holder that dies is replaced
   * after this; an issue() slower than this may be duplicated by a waiter taking over, so keep
   * it above the token request's own timeout.
   */
  lockTtlMs?: number;
  /** How long a caller waits for another caller's issue before failing with TokenWaitTimeoutError, default 20 s. */
  waitTimeoutMs?: number;
  /** Base poll interval while waiting (each poll waits this plus up to as much jitter), default 25 ms. */
  pollIntervalMs?: number;
  logger?: Logger;
}

/** Raised in callers that waited on an issue made by another process, carrying what that process saw. */
export class TokenIssueError extends Error {
  constructor(
    message: string,
    /** The failed issue's error as the issuing process serialised it (its `toJSON()` when it has one). */
    readonly remote: Readonly<Record<string, unknown>>,
    /** The original error's own `retryable` verdict, when it had one (AcronisApiError does). */
    readonly retryable: boolean | undefined,
  ) {
    super(message);
    this.name = 'TokenIssueError';
  }
}

/** Another caller held the issue lock for longer than `waitTimeoutMs`. */
export class TokenWaitTimeoutError extends Error {
  constructor(readonly waitedMs: number) {
    super(`no access token after waiting ${waitedMs} ms for another process to issue one`);
    this.name = 'TokenWaitTimeoutError';
  }
}

interface CachedToken {
  accessToken: string;
  fingerprint: string;
  expiresAt: number;
  refreshAt: number;
}

const DEFAULT_REFRESH_MARGIN_MS = 15 * 60 * 1000;
const DEFAULT_LOCK_TTL_MS = 15_000;
const DEFAULT_WAIT_TIMEOUT_MS = 20_000;
const DEFAULT_POLL_INTERVAL_MS = 25;

function fingerprint(accessToken: string): string {
  return createHash('sha256').update(accessToken).digest('hex');
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class TokenCache {
  private readonly redis: ScriptCommands;
  private readonly box: SecretBox;
  private readonly keys: TokenCacheKeys;
  private readonly issue: () => Promise<IssuedToken>;
  private readonly refreshMarginMs: number;
  private readonly lockTtlMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly logger: Logger;
  /** The decrypted token, used without a Redis round trip until its refresh time. */
  private current: CachedToken | undefined;
  /** In-process single flight: concurrent get() calls share one trip to Redis (and at most one issue). */
  private inflight: Promise<CachedToken> | undefined;

  constructor(opts: TokenCacheOptions) {
    this.redis = withScripts(opts.redis);
    this.box = opts.box;
    this.keys = opts.keys;
    this.issue = opts.issue;
    this.refreshMarginMs = opts.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS;
    this.lockTtlMs = opts.lockTtlMs ?? DEFAULT_LOCK_TTL_MS;
    this.waitTimeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    this.pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.logger = (opts.logger ?? silentLogger).child({ component: 'token-cache' });
  }

  /** A valid access token: from memory, else from Redis, else issued by exactly one caller across all processes. */
  async get(): Promise<string> {
    const current = this.current;
    if (current && Date.now() < current.refreshAt) return current.accessToken;
    this.inflight ??= this.obtain().finally(() => {
      this.inflight = undefined;
    });
    return (await this.inflight).accessToken;
  }

  /**
   * After a 401: drops the cached token only if it is still `staleToken`, so a 401 that
   * arrives after another caller already replaced the token never throws the new one away.
   */
  async invalidate(staleToken: string): Promise<void> {
    if (this.current?.accessToken === staleToken) this.current = undefined;
    const fp = fingerprint(staleToken);
    const dropped = Number(await this.redis.tokenCacheDeleteIfFingerprint(this.keys.token, fp)) === 1;
    this.logger.info(
      { tokenFingerprint: fp.slice(0, 12), dropped },
      dropped ? 'access token invalidated; the next call issues a new one' : 'stale access token was already replaced',
    );
  }

  private async obtain(): Promise<CachedToken> {
    const owner = randomUUID();
    const startedAt = Date.now();
    let waitedOn: string | undefined;
    for (;;) {
      const reply = (await this.redis.tokenCacheAcquireOrRead(
        this.keys.token,
        this.keys.lock,
        this.keys.failure(waitedOn ?? '-'),
        Date.now(),
        owner,
        this.lockTtlMs,
      )) as string[];
      switch (reply[0]) {
        case 'token': {
          const [, sealed = '', fp = '', exp = '', refresh = ''] = reply;
          const cached = this.open(sealed, fp, Number(exp), Number(refresh));
          if (cached) return (this.current = cached);
          // Unreadable (SECRETS_KEY changed, value altered): drop it and issue anew.
          await this.redis.tokenCacheDeleteIfFingerprint(this.keys.token, fp);
          continue;
        }
        case 'failed':
          throw this.reviveFailure(reply[1] ?? '{}');
        case 'acquired':
          return (this.current = await this.issueAsHolder(owner));
        case 'locked': {
          const holder = reply[1];
          if (holder !== waitedOn) {
            this.logger.debug(
              { waitedOn: waitedOn ?? null, holder },
              'another caller is issuing the access token; waiting for it',
            );
            waitedOn = holder;
          }
          if (Date.now() - startedAt >= this.waitTimeoutMs) throw new TokenWaitTimeoutError(this.waitTimeoutMs);
          await sleep(this.pollIntervalMs + Math.random() * this.pollIntervalMs);
          continue;
        }
        default:
          throw new Error(`token cache: unexpected reply from Redis: ${String(reply[0])}`);
      }
    }
  }

  private async issueAsHolder(owner: string): Promise<CachedToken> {
    const previous = this.current;
    let issued: IssuedToken;
    try {
      issued = await this.issue();
      if (!(issued.expiresAt > Date.now())) {
        throw new Error(
          `the token endpoint answered a token that is already expired (expiresAt ${new Date(issued.expiresAt).toISOString()})`,
        );
      }
    } catch (err) {
      // The caller gets the error and says it (a step's failure, a command's one line): here only for debugging.
      this.logger.debug({ err }, 'issuing the access token failed');
      await this.redis
        .tokenCacheFailAndRelease(
          this.keys.lock,
          this.keys.failure(owner),
          owner,
          serialiseError(err),
          Math.max(5_000, this.lockTtlMs),
        )
        .catch((redisErr: unknown) =>
          this.logger.warn({ err: redisErr }, 'could not publish the failed issue; waiters will time out or take over'),
        );
      throw err;
    }
    const now = Date.now();
    const lifetimeMs = Math.max(1, Math.ceil(issued.expiresAt - now));
    const refreshAt = issued.expiresAt - Math.min(this.refreshMarginMs, lifetimeMs / 4);
    const fp = fingerprint(issued.accessToken);
    await this.redis.tokenCacheStoreAndRelease(
      this.keys.token,
      this.keys.lock,
      this.box.seal(issued.accessToken, this.keys.token),
      fp,
      issued.expiresAt,
      Math.floor(refreshAt),
      lifetimeMs,
      owner,
    );
    this.logger.info(
      {
        tokenFingerprint: fp.slice(0, 12),
        expiresAt: new Date(issued.expiresAt).toISOString(),
        refreshAt: new Date(refreshAt).toISOString(),
        refreshed: previous !== undefined,
      },
      previous ? 'access token refreshed' : 'access token issued',
    );
    return {
      accessToken: issued.accessToken,
      fingerprint: fp,
      expiresAt: issued.expiresAt,
      refreshAt: Math.floor(refreshAt),
    };
  }

  private open(sealed: string, fp: string, expiresAt: number, refreshAt: number): CachedToken | undefined {
    try {
      const accessToken = this.box.open(sealed, this.keys.token);
      if (fingerprint(accessToken) !== fp) throw new SecretBoxError('fingerprint does not match the sealed token');
      return { accessToken, fingerprint: fp, expiresAt, refreshAt };
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      this.logger.warn({ err }, 'the cached access token cannot be opened; issuing a new one');
      return undefined;
    }
  }

  private reviveFailure(raw: string): TokenIssueError {
    let remote: Record<string, unknown>;
    try {
      remote = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      remote = { message: raw };
    }
    const message = typeof remote.message === 'string' ? remote.message : 'unknown error';
    const retryable = typeof remote.retryable === 'boolean' ? remote.retryable : undefined;
    return new TokenIssueError(`another process failed to issue the access token: ${message}`, remote, retryable);
  }
}

/** What waiters in other processes learn of a failed issue: the error's own JSON form (never its cause chain), plus its retry verdict. */
function serialiseError(err: unknown): string {
  if (!(err instanceof Error)) return JSON.stringify({ name: 'Error', message: String(err) });
  const { toJSON } = err as { toJSON?: unknown };
  const own: unknown = typeof toJSON === 'function' ? (toJSON as () => unknown).call(err) : undefined;
  const base = own !== null && typeof own === 'object' ? (own as Record<string, unknown>) : {};
  const retryable = (err as { retryable?: unknown }).retryable;
  return JSON.stringify({
    ...base,
    name: err.name,
    message: err.message,
    ...(typeof retryable === 'boolean' ? { retryable } : {}),
  });
}
