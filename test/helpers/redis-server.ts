import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A private `redis-server` for tests that restart Redis: its own port and data directory,
 * so killing it never touches the shared Redis on 6379 that other test files use at the
 * same time. AOF with `appendfsync always`: Redis fsyncs every write before it replies
 * (redis.io/docs/management/persistence), so a SIGKILL loses nothing a client was told
 * succeeded, and a start on the same directory reloads it all.
 */
export interface PrivateRedisServer {
  port: number;
  url: string;
  dir: string;
  /** SIGKILL, as a crash or an OOM kill would: no shutdown save, no goodbye to clients. */
  kill(): Promise<void>;
  /** Starts again on the same port and directory; resolves once it accepts connections (AOF loaded). */
  start(): Promise<void>;
  /** True from a start until a kill (or a crash). */
  running(): boolean;
  /** Kills the server and removes its directory. */
  destroy(): Promise<void>;
  /** What the server printed, for failure messages. */
  output(): string;
}

/** `extraArgs` come last, so they override the defaults (e.g. `--appendonly no`). */
export async function startPrivateRedis(extraArgs: string[] = []): Promise<PrivateRedisServer> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-restart-'));
  const port = await freePort();
  let child: ChildProcess | undefined;
  let text = '';

  async function start(): Promise<void> {
    if (running()) throw new Error(`redis-server on ${port} is already running`);
    const args = redisServerArgs(port, dir, ['--appendonly', 'yes', '--appendfsync', 'always', ...extraArgs]);
    const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    started.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    started.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    await untilReady(port, started, () => text);
  }

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  async function kill(): Promise<void> {
    const server = child;
    if (!server || !running()) return;
    const exited = once(server, 'exit');
    server.kill('SIGKILL');
    await exited;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    kill,
    start,
    running,
    async destroy() {
      await kill();
      await rm(dir, { recursive: true, force: true });
    },
    output: () => text,
  };
}

/** A test server on loopback, in the foreground, logging to stdout, never evicting (as the app requires); `extra` last. */
export function redisServerArgs(port: number, dir: string, extra: string[]): string[] {
  const base = { port: String(port), bind: '127.0.0.1', dir, save: '', 'maxmemory-policy': 'noeviction' };
  const defaults = Object.entries({ ...base, daemonize: 'no', logfile: '' }).flatMap(([name, value]) => [
    `--${name}`,
    value,
  ]);
  return [...defaults, ...extra];
}

/** A port the OS just handed out and released; the server binds it right after. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP port from the OS');
  return address.port;
}

/**
 * Resolves when the server logs that it accepts connections, which Redis does only once its data
 * (the AOF) is loaded; rejects when it exits first or stays silent for `timeoutMs`.
 */
export function untilReady(port: number, child: ChildProcess, output: () => string, timeoutMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    // This server's own lines: `output` may hold several servers' (a cluster's).
    let own = '';
    const onData = (chunk: Buffer) => {
      own += chunk.toString();
      if (/Ready to accept connections/.test(own)) done();
    };
    const onExit = () => done(new Error(`redis-server on ${port} exited at start:\n${output()}`));
    const timer = setTimeout(
      () => done(new Error(`redis-server on ${port} was not ready within ${timeoutMs} ms:\n${output()}`)),
      timeoutMs,
    );
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

/**
 * Reads through the producers' connection, which fails fast by design (a webhook answers
 * 503 rather than hang): while Redis is down this is undefined and the caller polls again.
 */
export async function whileRedisMayBeDown<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch {
    return undefined;
  }
}
