import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, redisServerArgs } from './redis-server.js';

const run = promisify(execFile);

/**
 * A private Redis Cluster for one test file: three masters (no replicas) on free ports, each
 * with its own data directory and cluster-config-file in one temp dir, so it never touches the
 * shared Redis on 6379. No persistence: the cluster lives as long as the test file.
 */
export interface PrivateRedisCluster {
  ports: number[];
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`, the form REDIS_URL takes. */
  url: string;
  /** What the servers printed, for failure messages. */
  output(): string;
  /** Kills every server and removes the temp dir. */
  destroy(): Promise<void>;
}

export async function startPrivateCluster(masters = 3): Promise<PrivateRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-cluster-'));
  const children: ChildProcess[] = [];
  let text = '';
  const destroy = async () => {
    await Promise.all(children.map(killServer));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn('redis-server', serverArgs(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    }
    for (const port of ports)
      await untilCli(
        port,
        ['ping'],
        (out) => out.trim() === 'PONG',
        () => text,
      );
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    for (const port of ports)
      await untilCli(
        port,
        ['cluster', 'info'],
        (out) => out.includes('cluster_state:ok'),
        () => text,
      );
    return { ports, url: `redis+cluster://${nodes.join(',')}`, output: () => text, destroy };
  } catch (err) {
    await destroy();
    throw err;
  }
}

function serverArgs(port: number, dir: string): string[] {
  return redisServerArgs(port, dir, [
    ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
    ...['--dbfilename', `dump-${port}.rdb`, '--appendonly', 'no'],
  ]);
}

/** Polls `redis-cli -p port …` until its output passes `ok` (the server is up, the cluster agreed). */
async function untilCli(
  port: number,
  args: string[],
  ok: (out: string) => boolean,
  output: () => string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = await run('redis-cli', ['-p', String(port), ...args]).then(
      (r) => r.stdout,
      () => '',
    );
    if (ok(out)) return;
    if (Date.now() > deadline)
      throw new Error(`redis-cli -p ${port} ${args.join(' ')} never answered as expected:\n${out}\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function killServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
