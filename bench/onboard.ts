/**
 * `npm run bench:onboard`: how close bulk onboarding comes to the floor the API budget sets,
 * `customers × 6 ÷ ACRONIS_RATE_LIMIT` (BENCHMARKS.md "Onboarding at the API's limit").
 *
 *   main     350 customers, simulator at 100 ± 20 ms limited to 100/s, ACRONIS_RATE_LIMIT=100,
 *            2 `work` processes × 16, imported from a CSV with the real command; then, in the
 *            same run, the same customers through the sequential baseline (bench/sequential-baseline.ts)
 *   rates    the same at 10, 50 and 200/s (100/s is the main run; --rates=10,100 chooses)
 *   shared   ACRONIS_RATE_LIMIT=100 while the API admits only 60/s (its budget shared with
 *            another integration): how the 429s' cut and climb settle below the real limit
 *   scaling  no limit anywhere, 2,000 customers, 1 and then 2 `work` processes × 16
 *   limits   ACRONIS_RATE_LIMIT=100 against scattered 429s, a lower limit, a drop, a rise and the
 *            right limit, through 1, 2 and 4 `work` processes (bench/onboard-limits.ts)
 *   first    60 customers at 10/s (--customers=N): how soon the first customer is done, and after how many requests
 *   datacenters  two partners in two data centres, each API limited to 100/s: 700 customers against
 *            350 in one data centre run right beside it (bench/onboard-datacenters.ts)
 *
 *   npm run bench:onboard -- [all|main|rates|shared|scaling|limits|first|datacenters]... [--rates=10,50] [--cases=scattered,lower] [--processes=1,2]
 *     [--series=FILE]
 *     [--dc-cases=right,unknown] [--repeat=N]
 *   (--cases and --processes narrow the limits part: cases whose name starts with a word given;
 *   --dc-cases and --repeat the datacenters part)
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { printDataCentres, runDataCentres } from './onboard-datacenters.js';
import { printLimits, runLimits } from './onboard-limits.js';
import { perCustomer, runPipeline, sustained, type RunOptions, type RunResult } from './pipeline-run.js';
import { runBaseline } from './sequential-baseline.js';

const CALLS_PER_CUSTOMER = 6;
const LATENCY = { latencyMs: 80, jitterMs: 40 };
const NO_LIMIT = 100_000;

const args = process.argv.slice(2);
const flag = (name: string) =>
  args
    .find((a) => a.startsWith(`--${name}=`))
    ?.slice(name.length + 3)
    .split(',');
const parts = args.filter((a) => !a.startsWith('--'));
const wanted = new Set(parts.length > 0 ? parts : ['all']);
const wants = (part: string) => wanted.has('all') || wanted.has(part);
const dir = mkdtempSync(join(tmpdir(), 'bench-onboard-'));

function machine(): string {
  const redis = execFileSync('redis-cli', ['info', 'server'], { encoding: 'utf8' });
  return [
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'} (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()})`,
    `${Math.round(totalmem() / 2 ** 30)} GiB`,
    `Node ${process.version}`,
    `Redis ${/redis_version:(\S+)/.exec(redis)?.[1] ?? '?'}`,
    new Date().toISOString().slice(0, 16).replace('T', ' ') + ' UTC',
  ].join(', ');
}

function options(customers: number, rate: number | null, workers = 2, apiRate = rate): RunOptions {
  return {
    customers,
    rateLimit: rate ?? NO_LIMIT,
    simRateLimit: apiRate,
    workers,
    concurrency: 16,
    ...LATENCY,
    dir,
  };
}

/** Share of the customers done at a quarter, half and three quarters of the wall time. */
function doneAt(r: RunResult): string {
  return [0.25, 0.5, 0.75]
    .map((f) => {
      const sample = [...r.series].reverse().find(([t]) => t <= r.seconds * f);
      return `${Math.round((100 * (sample?.[1] ?? 0)) / r.options.customers)} %`;
    })
    .join(' / ');
}

const refused = (r: RunResult) =>
  Object.values(r.stats.byEndpoint).reduce((sum, byStatus) => sum + (byStatus['429'] ?? 0), 0);

function row(r: RunResult): string {
  const { customers, rateLimit, simRateLimit, workers } = r.options;
  const limited = simRateLimit !== null;
  // The limit that binds: ours, or the API's when it is lower (a budget shared with another integration).
  const limit = Math.min(rateLimit, simRateLimit ?? rateLimit);
  const floor = (customers * CALLS_PER_CUSTOMER) / limit;
  const perSecond = r.stats.total / r.seconds;
  const share = (x: number) => (limited ? `${Math.round((100 * x) / limit)} %` : '—');
  return [
    !limited ? 'none' : simRateLimit === rateLimit ? `${rateLimit}/s` : `${rateLimit}/s, API ${simRateLimit}/s`,
    `${workers} × 16`,
    customers,
    `${r.done} / ${r.failed}`,
    `${r.seconds.toFixed(1)} s`,
    limited ? `${floor.toFixed(1)} s` : '—',
    limited ? `${(r.seconds / floor).toFixed(2)}` : '—',
    `${(r.stats.total / customers).toFixed(2)}`,
    `${perSecond.toFixed(1)} (${share(perSecond)})`,
    `${sustained(r).toFixed(1)} (${share(sustained(r))})`,
    `${betweenArrivals(r).toFixed(1)} (${share(betweenArrivals(r))})`,
    `${r.stats.maxRequestsPerSecond}`,
    `${refused(r)}`,
    `${r.stats.tokenIssues}`,
    `${r.firstDoneSeconds.toFixed(1)} s`,
    doneAt(r),
    r.workerPeakRssMiB.map((m) => m.toFixed(0)).join(' + ') + ' MiB',
  ].join(' | ');
}

/**
 * Requests per second from the first request's arrival at the simulator to the last one's: the
 * whole run less the import command's own start (Node, Redis, the checks, the first chunk queued)
 * and the last answer's way back.
 */
function betweenArrivals(r: RunResult): number {
  const { firstArrivalAt, lastArrivalAt, total } = r.stats;
  if (firstArrivalAt === undefined || lastArrivalAt === undefined || lastArrivalAt <= firstArrivalAt) return Number.NaN;
  return total / ((lastArrivalAt - firstArrivalAt) / 1000);
}

const HEADER =
  '| limit | work | customers | done / failed | wall | floor | ÷ floor | calls/customer | requests/s (of limit) | sustained 10–90 % (of limit) | first to last request (of limit) | peak 1 s at sim | 429s | `/idp/token` | first done | done at ¼ / ½ / ¾ | worker peak RSS |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';

function print(title: string, results: RunResult[]): void {
  console.log(`\n${title}\n\n${HEADER}`);
  for (const r of results) console.log(`| ${row(r)} |`);
  const seriesFile = flag('series')?.join(',');
  if (seriesFile) for (const r of results) appendSeries(seriesFile, title, r);
}

/**
 * `--series=FILE`: each run's samples, one JSON line (seconds since the import started,
 * customers done, requests and 429s at the simulator, every 250 ms): where a run lost its pace.
 */
function appendSeries(file: string, title: string, r: RunResult): void {
  const line = { title, limit: r.options.rateLimit, customers: r.options.customers, series: r.series };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

function printSeries(r: RunResult): void {
  const every = Math.max(1, Math.round(r.seconds / 12));
  const points: string[] = [];
  for (let t = every; t < r.seconds + every; t += every) {
    const sample = [...r.series].reverse().find(([s]) => s <= t) ?? [0, 0, 0, 0];
    points.push(`${Math.min(t, Math.ceil(r.seconds))} s: ${sample[1]}`);
  }
  console.log(`\ncompletions over time (customers done): ${points.join(', ')}`);
}

try {
  console.log(`machine: ${machine()}`);
  if (wants('main')) {
    const main = await runPipeline(options(350, 100));
    print('main run: 350 customers, ACRONIS_RATE_LIMIT=100, simulator 100 ± 20 ms and limited to 100/s', [main]);
    printSeries(main);
    console.log('\ncalls per customer by endpoint:', perCustomer(main.stats, 350));
    const baseline = await runBaseline({ customers: 350, rateLimit: 100, ...LATENCY });
    console.log(
      `\nsequential baseline (same customers, fresh simulator, same latency): ${baseline.seconds.toFixed(1)} s, ` +
        `${(baseline.stats.total / 350).toFixed(2)} calls per customer, first customer done after ${baseline.firstDoneSeconds.toFixed(2)} s, ` +
        `${(baseline.stats.total / baseline.seconds).toFixed(1)} requests/s; pipeline speed-up ${(baseline.seconds / main.seconds).toFixed(1)}×`,
    );
  }
  if (wants('rates')) {
    const rates = [];
    for (const rate of flag('rates')?.map(Number) ?? [10, 50, 200]) rates.push(await runPipeline(options(350, rate)));
    print('other limits: 350 customers each, simulator limited to the same rate', rates);
  }
  if (wants('shared')) {
    const shared = await runPipeline(options(350, 100, 2, 60));
    print('a budget shared with another integration: ACRONIS_RATE_LIMIT=100, the API admits 60/s', [shared]);
    printSeries(shared);
  }
  if (wants('scaling')) {
    const one = await runPipeline(options(2000, null, 1));
    const two = await runPipeline(options(2000, null, 2));
    print('no limit anywhere: 2,000 customers, 1 and 2 work processes', [one, two]);
    console.log(`\n2 processes ÷ 1: ${(one.seconds / two.seconds).toFixed(2)}× the throughput`);
  }
  if (wants('limits')) {
    const only = { cases: flag('cases'), processes: flag('processes')?.map(Number) };
    printLimits(await runLimits((workers) => options(350, 100, workers), only));
  }
  if (wants('first')) {
    const customers = Number(flag('customers')?.[0] ?? 60);
    const first = await runPipeline(options(customers, 10));
    print(`first customer at 10/s: ${customers} customers, simulator limited to 10/s`, [first]);
    const firstRequest = first.series.find(([, , requests]) => requests > 0)?.[0] ?? Number.NaN;
    const requestsBefore = first.series.find(([, done]) => done > 0)?.[2] ?? Number.NaN;
    console.log(
      `
first request sent ${firstRequest.toFixed(2)} s after the import started (sampled every 250 ms); ` +
        `first customer done ${first.firstDoneSeconds.toFixed(2)} s after the import started, ` +
        `${(first.firstDoneSeconds - firstRequest).toFixed(2)} s after the first request, ${requestsBefore} requests in`,
    );
  }
  if (wants('datacenters')) {
    const only = { cases: flag('dc-cases'), repeat: Number(flag('repeat')?.[0] ?? 1) };
    printDataCentres(await runDataCentres((workers) => options(350, 100, workers), only));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
