import { performance } from 'node:perf_hooks';

export interface ResponseViolation {
  endpoint: string;
  status: number;
  errors: string[];
}

/** GET /__sim/stats. */
export interface SimulatorStats {
  /** /api/2 requests answered (or reset) since the last reset. */
  total: number;
  /** `METHOD /oas/path/{param}` → status (or 'reset') → count. */
  byEndpoint: Record<string, Record<string, number>>;
  /** Successful POST /idp/token calls. */
  tokenIssues: number;
  /** 401 answers of any /api/2 endpoint. */
  unauthorized: number;
  /** Highest number of /api/2 requests that arrived within any sliding one-second window. */
  maxRequestsPerSecond: number;
  /**
   * The same within any sliding three-second window. A request held up a few tens of ms on its
   * way (a busy event loop on either side) can land in the next second beside the ones sent
   * after it, so one second may count one or two over an even rate; over three seconds that
   * shift is small beside the count, which shows the rate the senders kept.
   */
  maxRequestsPer3Seconds: number;
  /** The same for the requests the rate limit let through (the 429s it answered left out). */
  maxAdmittedPerSecond: number;
  /**
   * Wall-clock times (ms since the epoch) of the first and the last /api/2 arrival since the last
   * reset: a bench splits its run into the start before the first request, the requests, and the
   * end after the last one.
   */
  firstArrivalAt?: number;
  lastArrivalAt?: number;
  responseViolations: ResponseViolation[];
}

/** Times (ms, monotonic) within the last `windowMs`. */
class SlidingWindow {
  private times: number[] = [];
  private start = 0;

  constructor(private readonly windowMs: number) {}

  /** Counts `now` and returns how many times fall in the window (now-windowMs, now]. */
  add(now: number): number {
    this.times.push(now);
    while ((this.times[this.start] as number) <= now - this.windowMs) this.start++;
    // Compact now and then so the array does not grow without bound.
    if (this.start > 1024) {
      this.times = this.times.slice(this.start);
      this.start = 0;
    }
    return this.times.length - this.start;
  }
}

export class StatsRecorder {
  private stats: SimulatorStats = StatsRecorder.empty();
  private arrivals = new SlidingWindow(1000);
  private arrivals3s = new SlidingWindow(3000);
  private admitted = new SlidingWindow(1000);

  private static empty(): SimulatorStats {
    return {
      total: 0,
      byEndpoint: {},
      tokenIssues: 0,
      unauthorized: 0,
      maxRequestsPerSecond: 0,
      maxRequestsPer3Seconds: 0,
      maxAdmittedPerSecond: 0,
      responseViolations: [],
    };
  }

  /**
   * Counts an arrival for maxRequestsPerSecond (every window (t-1s, t] ending at an arrival) and
   * per 3 s, `now` on the monotonic clock; `at`, the wall clock, for the first and last arrival.
   */
  arrive(now: number = performance.now(), at: number = Date.now()): void {
    this.stats.firstArrivalAt ??= at;
    this.stats.lastArrivalAt = at;
    this.stats.maxRequestsPerSecond = Math.max(this.stats.maxRequestsPerSecond, this.arrivals.add(now));
    this.stats.maxRequestsPer3Seconds = Math.max(this.stats.maxRequestsPer3Seconds, this.arrivals3s.add(now));
  }

  /** Counts a request the rate limit let through, for maxAdmittedPerSecond. */
  admit(now: number = performance.now()): void {
    this.stats.maxAdmittedPerSecond = Math.max(this.stats.maxAdmittedPerSecond, this.admitted.add(now));
  }

  record(endpoint: string, status: number | 'reset'): void {
    this.stats.total++;
    const byStatus = (this.stats.byEndpoint[endpoint] ??= {});
    const key = String(status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
    if (status === 401) this.stats.unauthorized++;
  }

  tokenIssued(): void {
    this.stats.tokenIssues++;
  }

  violation(violation: ResponseViolation): void {
    this.stats.responseViolations.push(violation);
  }

  snapshot(): SimulatorStats {
    return structuredClone(this.stats);
  }

  reset(): void {
    this.stats = StatsRecorder.empty();
    this.arrivals = new SlidingWindow(1000);
    this.arrivals3s = new SlidingWindow(3000);
    this.admitted = new SlidingWindow(1000);
  }
}
