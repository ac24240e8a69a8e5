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
  responseViolations: ResponseViolation[];
}

export class StatsRecorder {
  private stats: SimulatorStats = StatsRecorder.empty();
  /** Arrival times (ms, monotonic) within the last second. */
  private window: number[] = [];
  private windowStart = 0;

  private static empty(): SimulatorStats {
    return {
      total: 0,
      byEndpoint: {},
      tokenIssues: 0,
      unauthorized: 0,
      maxRequestsPerSecond: 0,
      responseViolations: [],
    };
  }

  /** Counts an arrival for maxRequestsPerSecond: every window (t-1s, t] ending at an arrival. */
  arrive(now: number = performance.now()): void {
    this.window.push(now);
    while ((this.window[this.windowStart] as number) <= now - 1000) this.windowStart++;
    // Compact now and then so the array does not grow without bound.
    if (this.windowStart > 1024) {
      this.window = this.window.slice(this.windowStart);
      this.windowStart = 0;
    }
    const inWindow = this.window.length - this.windowStart;
    if (inWindow > this.stats.maxRequestsPerSecond) this.stats.maxRequestsPerSecond = inWindow;
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
    this.window = [];
    this.windowStart = 0;
  }
}
