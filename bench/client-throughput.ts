/**
 * How many Acronis calls per second the client stack (token cache in Redis + got + zod)
 * drives against the simulator, from several processes at once, and how many /idp/token
 * calls that costs. The simulator runs in its own process, as the API would.
 *
 *   npm run bench            (or: npx tsx bench/client-throughput.ts)
 */
import { spawn, execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { generateSecretsKey } from '../src/secrets/secret-box.js';

const ROOT = resolve(import.meta.dirname, '..');
const PROCESSES = 4;
const CONCURRENCY = 25;
const DURATION_MS = 8000;

interface Sim {
  url: string;
  clientId: string;
  clientSecret: string;
  stop: () => void;
}

async function startSim(latencyMs: number): Promise<Sim> {
  const child = spawn(
    process.execPath,
    ['bin/acronis-onboard.js', 'sim', '--port', '0', '--latency', String(latencyMs)],
    { cwd: ROOT },
  );
  let out = '';
  const found = await new Promise<Record<string, string>>((ok, fail) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const vars = Object.fromEntries([...out.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));
      if (vars.ACRONIS_CLIENT_SECRET) ok(vars as Record<string, string>);
    });
    child.once('exit', (code) => fail(new Error(`simulator exited ${code}: ${out}`)));
  });
  return {
    url: found.ACRONIS_BASE_URL!,
    clientId: found.ACRONIS_CLIENT_ID!,
    clientSecret: found.ACRONIS_CLIENT_SECRET!,
    stop: () => child.kill('SIGTERM'),
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function scenario(latencyMs: number, durationMs = DURATION_MS) {
  const sim = await startSim(latencyMs);
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const redis = new Redis('redis://127.0.0.1:6379');
  try {
    const me = (await (await fetch(`${sim.url}/__sim/state`)).json()) as {
      clients: { client_id: string; tenant_id: string }[];
    };
    const tenantId = me.clients.find((c) => c.client_id === sim.clientId)!.tenant_id;
    const key = generateSecretsKey();
    const run = promisify(execFile);
    const results = await Promise.all(
      Array.from({ length: PROCESSES }, () =>
        run(
          process.execPath,
          [
            '--import',
            'tsx',
            'bench/client-load-process.ts',
            sim.url,
            sim.clientId,
            sim.clientSecret,
            tenantId,
            prefix,
            key,
            String(CONCURRENCY),
            String(durationMs),
          ],
          {
            cwd: ROOT,
            maxBuffer: 64 * 1024 * 1024,
          },
        ).then(({ stdout }) => JSON.parse(stdout) as { count: number; errors: number; latencies: number[] }),
      ),
    );
    const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as {
      tokenIssues: number;
      maxRequestsPerSecond: number;
    };
    const latencies = results.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const count = results.reduce((a, r) => a + r.count, 0);
    return {
      latencyMs,
      calls: count,
      errors: results.reduce((a, r) => a + r.errors, 0),
      callsPerSecond: Math.round(count / (durationMs / 1000)),
      peakPerSecondAtSimulator: stats.maxRequestsPerSecond,
      p50: percentile(latencies, 50).toFixed(1),
      p99: percentile(latencies, 99).toFixed(1),
      tokenIssues: stats.tokenIssues,
    };
  } finally {
    sim.stop();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  }
}

console.log(
  `client throughput: ${PROCESSES} processes × ${CONCURRENCY} concurrent GET /tenants/{id}, ${DURATION_MS / 1000} s each`,
);
console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
);
// The first run on a machine is slower across the board (tsx's transform cache, cold JIT): warm up, discard.
await scenario(0, 3000);
const rows = [];
for (const latency of [0, 50]) rows.push(await scenario(latency));
console.table(rows);
