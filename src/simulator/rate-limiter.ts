import { performance } from 'node:perf_hooks';
import type { RateLimitChange } from './options.js';

/**
 * A sliding one-second window over all callers together. No numeric limit is published
 * (docs/acronis-api.md §9.3), so the limit is whatever the test or operator configures; the
 * answer over it is 429, with `Retry-After` in whole seconds unless turned off.
 */
export class RateLimiter {
  private admitted: number[] = [];

  /** Returns null when the request may pass, else the seconds to wait before retrying. */
  admit(limit: number | null, now: number = performance.now()): number | null {
    while (this.admitted.length > 0 && (this.admitted[0] as number) <= now - 1000) this.admitted.shift();
    if (limit === null) return null;
    // A fractional limit (0.5/s) still admits one request in its window.
    if (this.admitted.length >= Math.max(1, Math.floor(limit))) {
      const oldest = this.admitted[0] as number;
      return Math.max(1, Math.ceil((oldest + 1000 - now) / 1000));
    }
    this.admitted.push(now);
    return null;
  }

  reset(): void {
    this.admitted = [];
  }
}

/** The limit in force `elapsedMs` after the changes were set: the latest change due, else `initial`. */
export function limitAt(initial: number | null, changes: readonly RateLimitChange[], elapsedMs: number): number | null {
  let limit = initial;
  let latest = -1;
  for (const change of changes) {
    if (change.afterMs <= elapsedMs && change.afterMs >= latest) {
      limit = change.rateLimit;
      latest = change.afterMs;
    }
  }
  return limit;
}
