/**
 * HubSpot's burst limit for private apps: so many requests in any rolling window (100 per 10 s
 * on Free and Starter accounts, more on higher tiers; docs/sources.md "HubSpot", rate limits).
 * A request over it is refused with 429 and is not counted.
 */
export class RollingWindow {
  private readonly admitted: number[] = [];
  /** Requests refused with 429, and the most ever admitted within one window (never above `max`). */
  refused = 0;
  peak = 0;

  constructor(
    readonly max: number,
    readonly windowMs: number,
  ) {}

  /** True when admitted; the caller answers 429 otherwise. */
  admit(now = Date.now()): boolean {
    while (this.admitted.length > 0 && this.admitted[0]! <= now - this.windowMs) this.admitted.shift();
    if (this.admitted.length >= this.max) {
      this.refused += 1;
      return false;
    }
    this.admitted.push(now);
    this.peak = Math.max(this.peak, this.admitted.length);
    return true;
  }

  remaining(): number {
    return Math.max(0, this.max - this.admitted.length);
  }
}
