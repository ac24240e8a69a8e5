/**
 * One pipeline run with chosen figures (bench/pipeline-run.ts): the simulator in its own
 * process with `latency ± latency/5` ms and the same rate limit as ACRONIS_RATE_LIMIT, N
 * `acronis-onboard work` processes × 16, the customers imported from a CSV with the real
 * command. `npm run bench:onboard` runs the set of scenarios BENCHMARKS.md records.
 *
 *   npm run bench:pipeline -- [customers=350] [rateLimit=50] [workers=2] [latencyMs=40] [--node-defaults]
 *
 * `--node-defaults` starts the workers as `node bin/acronis-onboard.js work`, with Node's default
 * heap instead of the flags of the command's #! line (BENCHMARKS.md "Worker memory").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { perCustomer, runPipeline } from './pipeline-run.js';

const args = process.argv.slice(2);
const nodeDefaults = args.includes('--node-defaults');
const [customers = 350, rateLimit = 50, workers = 2, latencyMs = 40] = args
  .filter((a) => !a.startsWith('--'))
  .map(Number);
const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
try {
  const r = await runPipeline({
    customers,
    rateLimit,
    simRateLimit: rateLimit,
    workers,
    concurrency: 16,
    latencyMs: Math.round(latencyMs * 0.8),
    jitterMs: Math.round(latencyMs * 0.4),
    dir,
    nodeDefaults,
  });
  console.log(
    `${customers} customers, ACRONIS_RATE_LIMIT=${rateLimit}, ${workers} work × 16${nodeDefaults ? ' (Node heap defaults)' : ''}, latency ${latencyMs} ± ${latencyMs / 5} ms; ` +
      `${cpus().length} × ${cpus()[0]?.model}, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table([
    {
      done: r.done,
      failed: r.failed,
      seconds: r.seconds.toFixed(1),
      floorSeconds: ((customers * 6) / rateLimit).toFixed(1),
      requests: r.stats.total,
      requestsPerSecond: (r.stats.total / r.seconds).toFixed(1),
      ofLimit: `${Math.round((100 * r.stats.total) / r.seconds / rateLimit)} %`,
      peakPerSecondAtSimulator: r.stats.maxRequestsPerSecond,
      firstDoneSeconds: r.firstDoneSeconds.toFixed(1),
      workerPeakRssMiB: r.workerPeakRssMiB.map((m) => Math.round(m)).join(' + '),
    },
  ]);
  console.log('calls per customer:', perCustomer(r.stats, customers));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
