import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, redisServerArgs, untilReady } from './redis-server.js';
import { until } from './wait.js';

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
    const ready: Promise<void>[] = [];
    for (let i = 0; i < masters; i++) {
      const port = await freePort();
      ports.push(port);
      const child = spawn('redis-server', serverArgs(port, dir), { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      // Listening from the spawn on, so the ready line is not missed while the next port is found.
      ready.push(untilReady(port, child, () => text));
      ready.at(-1)!.catch(() => undefined);
    }
    await Promise.all(ready);
    const nodes = ports.map((p) => `127.0.0.1:${p}`);
    await run('redis-cli', ['--cluster', 'create', ...nodes, '--cluster-replicas', '0', '--cluster-yes']);
    // The masters agree on the slots in their own time: there is no event for it, only the state.
    for (const port of ports)
      await until(
        async () => (await cliOutput(port, ['cluster', 'info'])).includes('cluster_state:ok'),
        `cluster_state:ok on 127.0.0.1:${port}`,
        20_000,
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

function cliOutput(port: number, args: string[]): Promise<string> {
  return run('redis-cli', ['-p', String(port), ...args]).then(
    (r) => r.stdout,
    () => '',
  );
}

async function killServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}
