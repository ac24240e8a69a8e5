/**
 * How fast the webhook answers: the `serve` server in this process (startServer: producer,
 * replay store, callback worker) on a free port, the simulator in this process only for the
 * producer's start-up (the handler never calls Acronis), no workers, real Redis. Sends N
 * signed single-customer deliveries, each with its own X-Delivery-Id, C at a time over
 * keep-alive connections, and measures each from send to answer on the client. Then a few
 * requests of 1,000 customers each (the largest body allowed), one at a time.
 *
 *   npm run bench:webhook -- [requests=500] [concurrency=20] [bigRequests=5]
 */
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { signPayload } from '../src/producers/webhook-signature.js';
import { startServeInProcess } from './serve-in-process.js';

const [requests = 500, concurrency = 20, bigRequests = 5] = process.argv.slice(2).map(Number);
const secret = randomUUID();
const serve = await startServeInProcess('webhook', { WEBHOOK_SECRET: secret });
const { server } = serve;

async function send(body: string): Promise<{ ms: number; status: number }> {
  const started = performance.now();
  const response = await fetch(`${server.url}/webhooks/customers`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-signature': signPayload(secret, body),
      'x-delivery-id': randomUUID(),
    },
    body,
  });
  await response.arrayBuffer();
  return { ms: performance.now() - started, status: response.status };
}

const customer = (i: number) => ({
  name: `Bench Webhook ${i}`,
  email: `admin${i}@bench-webhook.example`,
  external_id: `bench-webhook-${i}`,
});
const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

try {
  // Warm-up (JIT, script loading, keep-alive connections), not counted.
  await Promise.all(Array.from({ length: concurrency }, (_, i) => send(JSON.stringify(customer(-1 - i)))));

  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        const { ms, status } = await send(JSON.stringify(customer(i)));
        latencies.push(ms);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);

  const big: number[] = [];
  for (let b = 0; b < bigRequests; b++) {
    const customers = Array.from({ length: 1000 }, (_, i) => customer(100_000 + b * 1000 + i));
    const { ms, status } = await send(JSON.stringify({ customers }));
    if (status !== 202) throw new Error(`a 1,000-customer request answered ${status}`);
    big.push(ms);
  }
  big.sort((a, b) => a - b);

  console.log(
    `webhook latency: ${requests} signed single-customer deliveries, concurrency ${concurrency}, in-process server, no workers`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table([
    {
      requests,
      statuses: [...statuses].map(([s, n]) => `${s}×${n}`).join(' '),
      'p50 ms': percentile(latencies, 50).toFixed(1),
      'p95 ms': percentile(latencies, 95).toFixed(1),
      'p99 ms': percentile(latencies, 99).toFixed(1),
      'max ms': latencies.at(-1)!.toFixed(1),
      'requests/s': (requests / seconds).toFixed(0),
    },
  ]);
  if (big.length > 0) {
    console.log(
      `${big.length} requests of 1,000 customers each, one at a time: median ${percentile(big, 50).toFixed(0)} ms, max ${big.at(-1)!.toFixed(0)} ms`,
    );
  }
} finally {
  await serve.close();
}
