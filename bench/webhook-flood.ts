/**
 * What unauthenticated connections cost `serve` (issue 11, item 2): `acronis-onboard serve` as
 * a child process (the simulator in another, only for the producer's start-up), real Redis.
 * C connections at once each send a webhook POST's headers declaring a 1 MiB body, then all of
 * that body but its last byte, and stall. Variant `unsigned` sends no X-Signature; `forged` a
 * header of the right shape and time that no secret made. Meanwhile /healthz is polled; the
 * server's RSS (VmRSS of its process) is sampled every 100 ms, during the flood and for
 * HOLD_S seconds after the last connection was opened.
 *
 *   npm run bench:flood -- [connections=2000] [variant=unsigned|forged] [holdS=35]
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { removeKeys } from '../test/helpers/redis.js';
import { startSimProcess, waitForLine } from './sim-process.js';

const [connectionsArg = '2000', variant = 'unsigned', holdArg = '35'] = process.argv.slice(2);
const connections = Number(connectionsArg);
const holdS = Number(holdArg);
const BODY_BYTES = 1024 * 1024;
const prefix = `bench-flood-${randomUUID().slice(0, 8)}`;

const sim = await startSimProcess();
const serve = spawn(process.execPath, ['bin/acronis-onboard.js', 'serve'], {
  cwd: resolve(import.meta.dirname, '..'),
  env: {
    PATH: process.env.PATH ?? '',
    ...sim.vars,
    REDIS_URL: 'redis://127.0.0.1:6379',
    QUEUE_PREFIX: prefix,
    SECRETS_KEY: generateSecretsKey(),
    WEBHOOK_SECRET: randomUUID(),
    PORT: '0',
    LOG_LEVEL: 'error',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
const listening = await waitForLine(serve, /listening on (http:\/\/[\d.]+:\d+)/);
const url = new URL(/listening on (http:\/\/[\d.]+:\d+)/.exec(listening)![1]!);

const rssMiB = () => {
  const status = readFileSync(`/proc/${serve.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
};
const body = Buffer.alloc(BODY_BYTES - 1, 0x20); // one buffer, shared by every socket: the client stays small
const header = () =>
  [
    'POST /webhooks/customers HTTP/1.1',
    `host: ${url.host}`,
    'content-type: application/json',
    `content-length: ${BODY_BYTES}`,
    ...(variant === 'forged' ? [`x-signature: t=${Math.floor(Date.now() / 1000)},v1=${'ab'.repeat(32)}`] : []),
    '',
    '',
  ].join('\r\n');

const outcomes = new Map<string, number>();
const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
function flood(): Socket {
  const socket = connect({ host: url.hostname, port: Number(url.port) });
  let answered = false;
  socket.on('data', (chunk: Buffer) => {
    if (answered) return;
    answered = true;
    count(/^HTTP\/1\.1 (\d{3})/.exec(chunk.toString('latin1'))?.[1] ?? 'other');
  });
  socket.on('error', () => undefined);
  socket.on('close', () => answered || count('closed without an answer'));
  socket.write(header());
  socket.write(body);
  return socket;
}

const health = { ok: 0, failed: 0 };
let polling = true;
const poll = (async () => {
  while (polling) {
    try {
      const answer = await fetch(`${url.origin}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (answer.status === 200) health.ok++;
      else health.failed++;
    } catch {
      health.failed++;
    }
    await sleep(200);
  }
})();

const rssBefore = rssMiB();
let peak = rssBefore;
const sampler = setInterval(() => (peak = Math.max(peak, rssMiB())), 100);
const sockets: Socket[] = [];
const started = Date.now();
try {
  for (let i = 0; i < connections; i++) {
    sockets.push(flood());
    if (i % 100 === 99) await sleep(10); // 100 at a time, so the client's own event loop keeps up
  }
  await sleep(holdS * 1000);
  const rssAfter = rssMiB();
  const healthAfter = await fetch(`${url.origin}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.status,
    () => 'no answer',
  );
  console.log(
    `webhook flood: ${connections} connections, ${variant}, each a 1 MiB body less its last byte, then stalled; held ${holdS} s`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 10)}`,
  );
  console.table([
    {
      'RSS before MiB': rssBefore.toFixed(0),
      'RSS peak MiB': peak.toFixed(0),
      [`RSS after ${holdS} s MiB`]: rssAfter.toFixed(0),
      answers: [...outcomes].map(([s, n]) => `${s}×${n}`).join(' '),
      '/healthz ok/failed': `${health.ok}/${health.failed}`,
      '/healthz at the end': healthAfter,
      'flood s': ((Date.now() - started) / 1000).toFixed(1),
    },
  ]);
} finally {
  polling = false;
  clearInterval(sampler);
  await poll;
  for (const socket of sockets) socket.destroy();
  serve.kill('SIGTERM');
  sim.stop();
  const redis = new Redis('redis://127.0.0.1:6379');
  await removeKeys(redis, prefix);
  redis.disconnect();
}
