/**
 * How fast the batch page answers for a large batch: `serve`'s server in this process (open on
 * loopback, no sign-in), the simulator in this process only for the producer's start-up, no
 * workers, real Redis. One batch of N customers is written through the onboarding store as the
 * pipeline would leave it mid-run (test/helpers/batch-seed.ts: claims, then each customer moved
 * to its state with the same Lua transitions the workers use): 90 % done, 3 % failed (1 in 30 of
 * them needing a change), 5 % running, 2 % queued, 0.2 % with an unconfirmed activation e-mail,
 * and 4 bad CSV rows. Then
 * each page the operator opens is asked R times, one at a time, and timed from send to the last
 * byte on the client: the default view, each filter, a search, a late page, the fragment the
 * page polls every 2 s while the batch runs, and the overview, which lists the batch.
 *
 *   npm run bench:dashboard -- [customers=10000] [requests=100]
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { seedBatch } from '../test/helpers/batch-seed.js';
import { startServeInProcess } from './serve-in-process.js';

const [customers = 10_000, requests = 100] = process.argv.slice(2).map(Number);
// Open on loopback, no sign-in: the page's own work is measured, not a session's.
const serve = await startServeInProcess('dashboard', { HOST: '127.0.0.1' });
const { app, server } = serve;

async function timeGet(path: string): Promise<{ ms: number; status: number; bytes: number }> {
  const started = performance.now();
  const response = await fetch(`${server.url}${path}`);
  const body = await response.arrayBuffer();
  return { ms: performance.now() - started, status: response.status, bytes: body.byteLength };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

try {
  const seedStarted = performance.now();
  const batchId = await seedBatch(
    app.store,
    { source: 'csv', label: `bench-${customers}.csv` },
    { customers, prefix: 'bench', name: 'Bench Customer' },
  );
  await app.store.recordCsvRows(batchId, {
    rows: customers + 4,
    badRowCount: 4,
    badRows: [3, 40, 41, 150].map((line) => ({
      line,
      problems: [{ field: 'email', reason: 'is not an e-mail address' }],
    })),
  });
  const seedSeconds = (performance.now() - seedStarted) / 1000;
  const base = `/batches/${batchId}`;
  const pages: [string, string][] = [
    ['default view', base],
    ['failed', `${base}?state=failed`],
    ['unconfirmed e-mail', `${base}?state=unconfirmed`],
    ['running', `${base}?state=running`],
    ['done, page 100', `${base}?state=done&page=100`],
    ['search "Customer 4242"', `${base}?q=${encodeURIComponent('Customer 4242')}`],
    ['search, no match', `${base}?q=nobody-here`],
    ['polled fragment', `${base}/fragment`],
    ['overview (/), the batch running', '/'],
  ];
  const load = loadavg().map((l) => l.toFixed(2));
  // Warm-up (JIT, templates, keep-alive), not counted.
  for (const [, path] of pages) for (let i = 0; i < 5; i++) await timeGet(path);
  const rows = [];
  for (const [what, path] of pages) {
    const times: number[] = [];
    let last = { status: 0, bytes: 0 };
    for (let i = 0; i < requests; i++) {
      const { ms, ...rest } = await timeGet(path);
      times.push(ms);
      last = rest;
    }
    times.sort((a, b) => a - b);
    rows.push({
      page: what,
      status: last.status,
      KiB: (last.bytes / 1024).toFixed(0),
      'p50 ms': percentile(times, 50).toFixed(1),
      'p95 ms': percentile(times, 95).toFixed(1),
      'max ms': times.at(-1)!.toFixed(1),
    });
  }
  console.log(
    `batch page: one batch of ${customers.toLocaleString('en-US')} customers (seeded in ${seedSeconds.toFixed(1)} s), ${requests} requests per page, one at a time, in-process server, no workers`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString()}; load average before ${load.join(' ')}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.table(rows);
} finally {
  await serve.close();
}
