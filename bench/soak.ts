/**
 * `npm run bench:soak -- [--customers 350] [--rate 100] [--latency 80] [--jitter 40] …`:
 * the fault soak (docs/soak.md). Prints the report as a Markdown table; exits 1 when a
 * customer was lost, stuck or failed, an object was made twice, or `import --wait` did not
 * end with its summary.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_RATES } from './soak-faults.js';
import { soakProblems, soakTable } from './soak-report.js';
import { runSoak } from './soak-run.js';

const { values } = parseArgs({
  options: {
    customers: { type: 'string', default: '350' },
    rate: { type: 'string', default: '100' },
    latency: { type: 'string', default: '80' },
    jitter: { type: 'string', default: '40' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '16' },
    '5xx': { type: 'string', default: String(DEFAULT_RATES.serverError * 100) },
    '429': { type: 'string', default: String(DEFAULT_RATES.tooMany * 100) },
    hang: { type: 'string', default: String(DEFAULT_RATES.hang * 100) },
    reset: { type: 'string', default: String(DEFAULT_RATES.reset * 100) },
    'commit-fail': { type: 'string', default: String(DEFAULT_RATES.commitThenFail * 100) },
    kills: { type: 'string', default: '2' },
    'redis-down': { type: 'string', default: '5000' },
    stall: { type: 'string', default: '180' },
    activation: { type: 'string', default: 'alternate' },
    // The project's defaults (30 s each) unless given: how long a hung call and a killed worker's jobs take to come back.
    'api-timeout': { type: 'string' },
    'job-lock': { type: 'string' },
  },
});

function number(name: keyof typeof values, min = 0): number {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min) {
    console.error(`bench:soak: --${name} must be a number ≥ ${min}, got ${values[name]}`);
    process.exit(2);
  }
  return n;
}

function activation(): 'alternate' | 'email' | 'password' {
  const a = values.activation;
  if (a === 'alternate' || a === 'email' || a === 'password') return a;
  console.error(`bench:soak: --activation must be alternate, email or password, got ${a}`);
  process.exit(2);
}

const percent = (name: keyof typeof values) => number(name) / 100;
const dir = mkdtempSync(join(tmpdir(), 'bench-soak-'));
try {
  const report = await runSoak({
    customers: number('customers', 1),
    rateLimit: number('rate', 1),
    latencyMs: number('latency'),
    jitterMs: number('jitter'),
    workers: number('workers', 1),
    concurrency: number('concurrency', 1),
    rates: {
      serverError: percent('5xx'),
      tooMany: percent('429'),
      hang: percent('hang'),
      reset: percent('reset'),
      commitThenFail: percent('commit-fail'),
    },
    killsPerWorker: number('kills'),
    redisDownMs: number('redis-down'),
    stallSeconds: number('stall', 1),
    activation: activation(),
    importGraceMs: 60_000,
    env: {
      ...(values['api-timeout'] ? { ACRONIS_TIMEOUT_MS: String(number('api-timeout', 100)) } : {}),
      ...(values['job-lock'] ? { JOB_LOCK_MS: String(number('job-lock', 1000)) } : {}),
    },
    dir,
    log: (line) => console.error(`[soak] ${line}`),
  });
  console.log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`);
  console.log(
    `simulator ${report.options.latencyMs} ms + 0..${report.options.jitterMs} ms, ACRONIS_RATE_LIMIT=${report.rate}, ` +
      `${report.options.workers} work × ${report.options.concurrency}\n`,
  );
  console.log(soakTable(report));
  const problems = soakProblems(report);
  console.log(problems.length === 0 ? '\nsoak passed' : `\nsoak FAILED: ${problems.join('; ')}`);
  process.exitCode = problems.length === 0 ? 0 : 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
