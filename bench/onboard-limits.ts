/**
 * The `limits` part of `npm run bench:onboard`: the request budget against APIs whose limit is
 * not the one it was told (BENCHMARKS.md "The request budget under real 429s"). Each case runs
 * 350 customers with ACRONIS_RATE_LIMIT=100 through 1, 2 and 4 `work` processes; the case's
 * faults and limit changes are set on the simulator as the measurement starts.
 */
import { refusedOf, runPipeline, type RunOptions, type RunResult } from './pipeline-run.js';

const CALLS_PER_CUSTOMER = 6;
const CUSTOMERS = 350;
const TOLD = 100;
/** A pace counts as steady once the next 2 s run at this share of the limit in force. */
const STEADY_SHARE = 0.9;
const STEADY_SPAN = 2;

interface LimitChange {
  afterMs: number;
  rateLimit: number;
}

export interface LimitCase {
  name: string;
  /** The API's limit at the start. */
  api: number;
  changes?: LimitChange[];
  /** Share of requests answered 429 at random (Retry-After: 1). */
  noise?: number;
}

export const LIMIT_CASES: LimitCase[] = [
  { name: 'scattered 3 % 429s', api: TOLD, noise: 0.03 },
  { name: 'lower unknown limit (API 60/s)', api: 60 },
  { name: 'a drop 100 → 50/s at 10 s', api: 100, changes: [{ afterMs: 10_000, rateLimit: 50 }] },
  { name: 'a rise 50 → 100/s at 15 s', api: 50, changes: [{ afterMs: 15_000, rateLimit: 100 }] },
  { name: 'right limit (API 100/s)', api: TOLD },
];

export const PROCESSES = [1, 2, 4];

/** The API's limit `t` seconds into the measurement. */
function limitAt(c: LimitCase, t: number): number {
  let limit = c.api;
  for (const change of c.changes ?? []) if (t * 1000 >= change.afterMs) limit = change.rateLimit;
  return limit;
}

/** Requests the limit allows between `from` and `to` (seconds). */
function allowed(c: LimitCase, from: number, to: number): number {
  const step = 0.01;
  let sum = 0;
  for (let t = from; t < to; t += step) sum += limitAt(c, t) * Math.min(step, to - t);
  return sum;
}

/** The floor: how long the customers' calls take at exactly the API's limit, wherever it is. */
function floorSeconds(c: LimitCase): number {
  const calls = CUSTOMERS * CALLS_PER_CUSTOMER;
  let t = 0;
  let sum = 0;
  while (sum < calls) {
    sum += limitAt(c, t) * 0.01;
    t += 0.01;
  }
  return t;
}

/** Requests the API let through by `t` seconds (interpolated between the 250 ms samples). */
function admittedBy(r: RunResult, t: number): number {
  const admitted = (i: number) => (r.series[i]?.[2] ?? 0) - (r.series[i]?.[3] ?? 0);
  const after = r.series.findIndex(([s]) => s >= t);
  if (after < 0) return admitted(r.series.length - 1);
  if (after === 0) return (admitted(0) * t) / Math.max(r.series[0]![0], 1e-9);
  const [t0, t1] = [r.series[after - 1]![0], r.series[after]![0]];
  return admitted(after - 1) + ((admitted(after) - admitted(after - 1)) * (t - t0)) / (t1 - t0);
}

/** When 90 % of the customers were done: the pace is read before the tail. */
function ninetyPercent(r: RunResult): number {
  return r.series.find(([, done]) => done >= CUSTOMERS * 0.9)?.[0] ?? r.seconds;
}

/** The last change of the limit (0: none), from which the seconds to a steady pace count. */
function lastEvent(c: LimitCase): number {
  return Math.max(0, ...(c.changes ?? []).map((change) => change.afterMs / 1000));
}

/** Seconds from the last limit change to the first moment the next 2 s run at 90 % of the limit; NaN: never. */
function toSteady(c: LimitCase, r: RunResult): number {
  const event = lastEvent(c);
  const end = ninetyPercent(r);
  for (let t = event; t + STEADY_SPAN <= end; t += 0.25) {
    const share = (admittedBy(r, t + STEADY_SPAN) - admittedBy(r, t)) / allowed(c, t, t + STEADY_SPAN);
    if (share >= STEADY_SHARE) return t - event;
  }
  return Number.NaN;
}

export interface LimitRun {
  c: LimitCase;
  r: RunResult;
}

function percent(x: number): string {
  return Number.isFinite(x) ? `${Math.round(100 * x)} %` : '—';
}

function row({ c, r }: LimitRun): string {
  const steady = toSteady(c, r);
  const from = lastEvent(c) + (Number.isFinite(steady) ? steady : 0);
  const end = ninetyPercent(r);
  const paceShare = end > from ? (admittedBy(r, end) - admittedBy(r, from)) / allowed(c, from, end) : Number.NaN;
  const wholeShare = admittedBy(r, r.seconds) / allowed(c, 0, r.seconds);
  return [
    c.name,
    r.options.workers,
    `${r.done} / ${r.failed}`,
    `${r.seconds.toFixed(1)} s`,
    `${floorSeconds(c).toFixed(1)} s`,
    (r.seconds / floorSeconds(c)).toFixed(2),
    percent(paceShare),
    percent(wholeShare),
    refusedOf(r.stats),
    Number.isFinite(steady) ? `${steady.toFixed(2)} s` : 'never',
    `${r.stats.maxRequestsPerSecond} / ${r.stats.maxAdmittedPerSecond ?? '?'}`,
    r.lateSends,
    `${r.firstDoneSeconds.toFixed(1)} s`,
  ].join(' | ');
}

const HEADER =
  '| case | work processes | done / failed | wall | floor | ÷ floor | steady pace (of the API limit) | whole run (of the limit) | 429s | to steady | peak 1 s arrived / admitted | late sends | first done |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|';

export function printLimits(runs: LimitRun[]): void {
  console.log(
    `\nlimits: ${CUSTOMERS} customers, ACRONIS_RATE_LIMIT=${TOLD}, 16 jobs per process, simulator 100 ± 20 ms; ` +
      `"to steady" counts from the last change of the limit (from the start when none) to the first 2 s at ≥ ${STEADY_SHARE * 100} % of it; ` +
      `the steady pace runs from there to 90 % of the customers done; ` +
      `late sends: requests the workers wrote out more than 25 ms later than one with a later slot, each taking a later slot out of the schedule\n\n${HEADER}`,
  );
  for (const run of runs) console.log(`| ${row(run)} |`);
}

/** `only`: the cases whose name starts with one of these words, and these process counts (all when absent). */
export async function runLimits(
  base: (workers: number) => RunOptions,
  only: { cases?: string[]; processes?: number[] } = {},
): Promise<LimitRun[]> {
  const runs: LimitRun[] = [];
  const cases = LIMIT_CASES.filter((c) => !only.cases || only.cases.some((word) => c.name.startsWith(word)));
  for (const c of cases) {
    for (const workers of only.processes ?? PROCESSES) {
      const simConfig = {
        rateLimit: c.api,
        rateLimitChanges: c.changes ?? [],
        faults: c.noise ? [{ kind: '429', probability: c.noise }] : [],
      };
      const r = await runPipeline({ ...base(workers), rateLimit: TOLD, simRateLimit: c.api, simConfig });
      console.error(
        `limits: ${c.name}, ${workers} process(es): ${r.seconds.toFixed(1)} s, ${refusedOf(r.stats)} 429s, peak ${r.stats.maxRequestsPerSecond} arrived in 1 s, ${r.lateSends} late sends`,
      );
      runs.push({ c, r });
    }
  }
  return runs;
}
