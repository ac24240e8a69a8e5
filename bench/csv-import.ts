/**
 * How fast `acronis-onboard import FILE.csv` reads, validates and enqueues a large CSV, and
 * how much memory it takes: the real command in a child process (under `/usr/bin/time -v`
 * when installed, else reporting `process.resourceUsage().maxRSS` itself), against a fresh
 * QUEUE_PREFIX and a simulator in its own process (the producer resolves the partner and
 * checks the profile against its offer). No workers: only the import is measured.
 *
 * It runs the import for a one-row file (the command's fixed cost: Node, tsx, connections),
 * for 1,000 rows and for N rows: a streaming import keeps the peak RSS nearly flat as N grows.
 *
 *   npm run bench:csv -- [rows=10000]
 */
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { startSimProcess, type SimProcess } from './sim-process.js';
import { removeKeys } from '../test/helpers/redis.js';

const ROOT = resolve(import.meta.dirname, '..');
const [rows = 10_000] = process.argv.slice(2).map(Number);
const TIME = '/usr/bin/time';
const useTime = existsSync(TIME);
const run = promisify(execFile);

function writeCsv(dir: string, n: number, tag: string): string {
  const path = join(dir, `${tag}-${n}.csv`);
  const lines = ['external_id,name,email,first_name,last_name,language,country,phone'];
  for (let i = 1; i <= n; i++) {
    lines.push(
      `${tag}-${i},"${tag} Customer ${i}, Ltd",admin${i}@${tag}-customer.example,Ada,Admin${i},en,GB,+44 20 7946 ${String(i % 10_000).padStart(4, '0')}`,
    );
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
  return path;
}

interface Measured {
  rows: number;
  fileKiB: number;
  seconds: number;
  maxRssMiB: number;
}

async function measureImport(file: string, n: number, env: Record<string, string>): Promise<Measured> {
  const cli = [join(ROOT, 'bin/acronis-onboard.js'), 'import', file];
  const started = performance.now();
  let stderr: string;
  let stdout: string;
  if (useTime) {
    ({ stdout, stderr } = await run(TIME, ['-v', process.execPath, ...cli], {
      cwd: ROOT,
      env,
      maxBuffer: 64 * 2 ** 20,
    }));
  } else {
    const hook =
      'data:text/javascript,process.on("exit",()=>process.stderr.write(`Maximum resident set size (kbytes): ${process.resourceUsage().maxRSS}\\n`))';
    ({ stdout, stderr } = await run(process.execPath, ['--import', hook, ...cli], {
      cwd: ROOT,
      env,
      maxBuffer: 64 * 2 ** 20,
    }));
  }
  const seconds = (performance.now() - started) / 1000;
  if (!new RegExp(`queued ${n} `).test(stdout))
    throw new Error(`import of ${file} did not queue ${n}:\n${stdout}\n${stderr}`);
  const kib = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1]);
  return { rows: n, fileKiB: Math.round(statSync(file).size / 1024), seconds, maxRssMiB: kib / 1024 };
}

let sim: SimProcess | undefined;
const dir = mkdtempSync(join(tmpdir(), 'bench-csv-'));
const prefixes: string[] = [];
const redis = new Redis('redis://127.0.0.1:6379');
try {
  sim = await startSimProcess();
  const { vars } = sim;
  const results: Measured[] = [];
  for (const n of [1, 1000, rows]) {
    // A fresh prefix per run: every row is a new customer, as in a first import.
    const prefix = `bench-csv-${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: dir,
      ...vars,
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: prefix,
      SECRETS_KEY: generateSecretsKey(),
      LOG_LEVEL: 'warn',
    };
    results.push(await measureImport(writeCsv(dir, n, `b${n}`), n, env));
  }
  const [fixed, , big] = results as [Measured, Measured, Measured];
  console.log(
    `csv import: ${rows} rows, the real \`acronis-onboard import\` in a child process, no workers; peak RSS from ${useTime ? '/usr/bin/time -v' : 'process.resourceUsage().maxRSS'}`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table(
    results.map((r) => ({
      rows: r.rows,
      fileKiB: r.fileKiB,
      seconds: r.seconds.toFixed(2),
      rowsPerSecond: Math.round(r.rows / r.seconds),
      peakRssMiB: r.maxRssMiB.toFixed(0),
    })),
  );
  const net = big.seconds - fixed.seconds;
  console.log(
    `${rows} rows: ${big.seconds.toFixed(2)} s wall (${Math.round(rows / big.seconds)} rows/s), ` +
      `${net.toFixed(2)} s beyond a one-row import (${Math.round(rows / net)} rows/s); ` +
      `peak RSS ${big.maxRssMiB.toFixed(0)} MiB, ${(big.maxRssMiB - fixed.maxRssMiB).toFixed(0)} MiB above a one-row import`,
  );
} finally {
  sim?.stop();
  for (const prefix of prefixes) {
    await removeKeys(redis, prefix);
  }
  redis.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
