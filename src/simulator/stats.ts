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
  /** The same for the requests the rate limit let through (the 429s it answered left out). */
  maxAdmittedPerSecond: number;
  responseViolations: ResponseViolation[];
}

/** Times (ms, monotonic) within the last second, and the most there ever were. */
class SlidingSecond {
  private times: number[] = [];
  private start = 0;

  /** Counts `now` and returns how many times fall in the window (now-1s, now]. */
  add(now: number): number {
    this.times.push(now);
    while ((this.times[this.start] as number) <= now - 1000) this.start++;
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
  private arrivals = new SlidingSecond();
  private admitted = new SlidingSecond();

  private static empty(): SimulatorStats {
    return {
      total: 0,
      byEndpoint: {},
      tokenIssues: 0,
      unauthorized: 0,
      maxRequestsPerSecond: 0,
      maxAdmittedPerSecond: 0,
      responseViolations: [],
    };
  }

  /** Counts an arrival for maxRequestsPerSecond: every window (t-1s, t] ending at an arrival. */
  arrive(now: number = performance.now()): void {
    this.stats.maxRequestsPerSecond = Math.max(this.stats.maxRequestsPerSecond, this.arrivals.add(now));
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
    this.arrivals = new SlidingSecond();
    this.admitted = new SlidingSecond();
  }
}
