import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedis } from '../redis/connection.js';
import { RedisNotFoundError } from './errors.js';

/** A Redis for the demo: the one at `url` when it answers, else a private `redis-server` stopped with the demo. */
export interface DemoRedis {
  url: string;
  /** True when the demo started it (and will stop it). */
  started: boolean;
  stop(): Promise<void>;
}

export async function findOrStartRedis(url: string): Promise<DemoRedis> {
  if (await answers(url)) return { url, started: false, stop: async () => undefined };
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) throw new RedisNotFoundError(url);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-demo-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'];
  const child = spawn('redis-server', args, { stdio: 'ignore' });
  const local = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 50 && !(await answers(local)); i++) await new Promise((r) => setTimeout(r, 100));
  const stop = () => stopServer(child, dir);
  if (!(await answers(local))) {
    await stop();
    throw new RedisNotFoundError(url);
  }
  return { url: local, started: true, stop };
}

async function answers(url: string): Promise<boolean> {
  const redis = createRedis(url, 'fail-fast', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function stopServer(child: ChildProcess, dir: string): Promise<void> {
  if (child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    // Bounded, and the timer never keeps the process (demo --exit) alive on its own.
    await Promise.race([exited, new Promise((r) => setTimeout(r, 3000).unref())]);
  }
  rmSync(dir, { recursive: true, force: true });
}
