/**
 * The `datacenters` part of `npm run bench:onboard` (issue 25, BENCHMARKS.md "Two data centres"):
 * one install serving two partners in two simulated data centres, each its own simulator process
 * limited to 100/s, 700 customers from one CSV (350 per data centre, rows alternating), against
 * the one-data-centre run of 350 customers made right beside it with the same work processes, so
 * that the ratio holds on a machine whose load moves. Each case tells the budget a rate: `right`
 * the API's own; `unknown` more than it admits, so that each data centre's budget finds its limit
 * from the 429s (src/acronis/rate-estimator.ts) on its own; `low` 25/s each, where the budgets
 * and not a busy machine's CPU set the pace of both runs; `low-unknown` the same told 40/s.
 */
import { execFileSync } from 'node:child_process';
import { refusedOf, runPipeline, sustained, type RunOptions, type RunResult } from './pipeline-run.js';

const API_LIMIT = 100;
/** The `low` case's limit: low enough that the budgets, not a loaded machine's CPU, set the pace of both runs. */
const LOW_LIMIT = 25;
const PER_DATA_CENTRE = 350;
/** The target: two data centres at ≥ 1.8 × one's rate. */
const TARGET = 1.8;

export interface DataCentreCase {
  name: string;
  /** ACRONIS_RATE_LIMIT, every partner's rate (the partners file states none). */
  told: number;
  /** Each simulated data centre's limit. */
  api: number;
}

export const DATA_CENTRE_CASES: DataCentreCase[] = [
  { name: 'right', told: API_LIMIT, api: API_LIMIT },
  { name: 'unknown', told: 150, api: API_LIMIT },
  { name: 'low', told: LOW_LIMIT, api: LOW_LIMIT },
  // `unknown` at the `low` case's scale: whether each budget finds its limit as well where the CPU is no bottleneck.
  { name: 'low-unknown', told: 40, api: LOW_LIMIT },
];

export interface DataCentrePair {
  c: DataCentreCase;
  one: RunResult;
  two: RunResult;
  loadBefore: string;
  loadAfter: string;
}

function loadAverage(): string {
  return /load average: (.*)$/.exec(execFileSync('uptime', { encoding: 'utf8' }).trim())?.[1] ?? '?';
}

/** Each case as a pair: one data centre, then two, the same processes and the same told rate. */
export async function runDataCentres(
  base: (workers: number) => RunOptions,
  only: { cases?: string[]; repeat?: number } = {},
): Promise<DataCentrePair[]> {
  const pairs: DataCentrePair[] = [];
  const cases = DATA_CENTRE_CASES.filter((c) => !only.cases || only.cases.includes(c.name));
  for (let round = 0; round < (only.repeat ?? 1); round++) {
    for (const c of cases) {
      const opts = { ...base(2), rateLimit: c.told, simRateLimit: c.api };
      const loadBefore = loadAverage();
      const one = await runPipeline({ ...opts, customers: PER_DATA_CENTRE });
      const two = await runPipeline({ ...opts, customers: 2 * PER_DATA_CENTRE, dataCentres: 2 });
      const loadAfter = loadAverage();
      console.error(
        `datacenters: ${c.name}, one ${one.seconds.toFixed(1)} s, two ${two.seconds.toFixed(1)} s, load ${loadAfter}`,
      );
      pairs.push({ c, one, two, loadBefore, loadAfter });
    }
  }
  return pairs;
}

const perSecond = (r: RunResult) => r.stats.total / r.seconds;
const customersPerSecond = (r: RunResult) => r.done / r.seconds;
const cpu = (r: RunResult) =>
  `${r.workerCpuSeconds.map((s) => s.toFixed(1)).join(' + ')} s, sims ${r.simCpuSeconds.toFixed(1)} s`;

/** Each data centre's requests, 429s and peak second arrived / admitted at its simulator. */
function eachDataCentre(r: RunResult): string {
  return r.statsEach
    .map((s) => `${s.total} req, ${refusedOf(s)} 429s, ${s.maxRequestsPerSecond} / ${s.maxAdmittedPerSecond ?? '?'}`)
    .join('; ');
}

function row(p: DataCentrePair, r: RunResult): string {
  const dcs = r.statsEach.length;
  const ratio = (f: (x: RunResult) => number) => (dcs === 1 ? '1' : (f(r) / f(p.one)).toFixed(2));
  return [
    `${p.c.name} (told ${p.c.told}/s, API ${p.c.api}/s)`,
    dcs,
    r.options.customers,
    `${r.done} / ${r.failed}`,
    `${r.seconds.toFixed(1)} s`,
    `${customersPerSecond(r).toFixed(1)} (${ratio(customersPerSecond)} ×)`,
    `${perSecond(r).toFixed(1)} (${ratio(perSecond)} ×)`,
    `${sustained(r).toFixed(1)} (${ratio(sustained)} ×)`,
    eachDataCentre(r),
    `${r.firstDoneSeconds.toFixed(1)} s`,
    cpu(r),
    dcs === 1 ? p.loadBefore : p.loadAfter,
  ].join(' | ');
}

const HEADER =
  '| case | data centres | customers | done / failed | wall | customers/s (× one DC) | requests/s (× one DC) | sustained 10–90 % (× one DC) | per data centre: requests, 429s, peak 1 s arrived / admitted | first done | CPU: work processes, simulators | load (1/5/15 min) |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|';

export function printDataCentres(pairs: DataCentrePair[]): void {
  console.log(
    `\ndatacenters: ${PER_DATA_CENTRE} customers per data centre, each simulator limited to its case's API rate, ` +
      `2 work processes × 16 jobs per data centre, simulators 100 ± 20 ms; target ≥ ${TARGET} × the one-data-centre rate\n\n${HEADER}`,
  );
  for (const p of pairs) {
    console.log(`| ${row(p, p.one)} |`);
    console.log(`| ${row(p, p.two)} |`);
  }
}
