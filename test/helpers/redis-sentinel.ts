import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, redisServerArgs, untilReady } from './redis-server.js';
import { until } from './wait.js';

const run = promisify(execFile);

/** The name the Sentinel monitors the primary under: the last part of REDIS_URL. */
export const PRIMARY_NAME = 'onboard-primary';
/** The replica's own user on the primary: turning it off cuts replication while the app's clients go on. */
const REPLICATION_USER = 'replication';
const REPLICATION_PASSWORD = 'replication-test-password';
/** `requirepass` of the primary and the replica, and of the Sentinel: the URL carries both, the output neither. */
export const DATA_PASSWORD = 'data-secret-5f2c9e';
export const SENTINEL_PASSWORD = 'sentinel-secret-8d41a7';

/**
 * A private primary, one replica and one Sentinel for one test file, on free loopback ports,
 * each with its own config file in one temp dir (Sentinel rewrites its own, and CONFIG REWRITE
 * at a promotion wants one), so nothing touches the shared Redis on 6379. No persistence.
 * The servers and the Sentinel each ask for a password of their own, as a real deployment would.
 * The replica reaches the primary as its own ACL user, which `cutReplication` switches off:
 * the primary then takes writes the replica never sees, as when a primary dies before its
 * replication stream is sent.
 */
export interface PrivateSentinelGroup {
  primaryPort: number;
  replicaPort: number;
  sentinelPort: number;
  /** `redis+sentinel://:…@127.0.0.1:S/onboard-primary?sentinel_password=…`, the form REDIS_URL takes. */
  url: string;
  /** The address the Sentinel gives for the primary now. */
  primaryAddress(): Promise<string | undefined>;
  /** `INFO replication` of one server, as fields. */
  replication(port: number): Promise<Record<string, string>>;
  /** Waits until the replica has every write the primary had when this was called. */
  replicaCaughtUp(): Promise<void>;
  /** Stops replication for good; resolves once the replica says its link is down. */
  cutReplication(): Promise<void>;
  /** SIGKILL of the primary: no goodbye to clients, replica or Sentinel. */
  killPrimary(): Promise<void>;
  /** Waits until the Sentinel names the replica as primary and the replica says role:master. */
  promoted(timeoutMs?: number): Promise<void>;
  output(): string;
  /** Kills every server and removes the temp dir. */
  destroy(): Promise<void>;
}

export async function startPrivateSentinelGroup(opts: { downAfterMs?: number } = {}): Promise<PrivateSentinelGroup> {
  const dir = await mkdtemp(join(tmpdir(), 'redis-sentinel-'));
  const children = new Map<number, ChildProcess>();
  let text = '';
  const destroy = async () => {
    await Promise.all([...children.values()].map(killServer));
    await rm(dir, { recursive: true, force: true });
  };
  const start = async (port: number, args: string[]) => {
    const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.set(port, child);
    child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
    // A Sentinel never logs "Ready to accept connections": it is ready when it answers.
    if (!args.includes('--sentinel')) return untilReady(port, child, () => text);
    const pong = async () => (await cliOutput(port, ['PING'], SENTINEL_PASSWORD)).trim() === 'PONG';
    await until(pong, `Sentinel on ${port}`, 10_000);
  };
  try {
    const [primaryPort, replicaPort, sentinelPort] = [await freePort(), await freePort(), await freePort()];
    await start(primaryPort, await serverArgs(dir, primaryPort, primaryAcl()));
    await start(replicaPort, await serverArgs(dir, replicaPort, replicaOf(primaryPort)));
    const downAfterMs = opts.downAfterMs ?? 3000;
    await start(sentinelPort, await sentinelArgs(dir, sentinelPort, primaryPort, downAfterMs));
    let cutAt: number | undefined;
    const cli = (port: number, ...args: string[]) =>
      cliOutput(port, args, port === sentinelPort ? SENTINEL_PASSWORD : DATA_PASSWORD);
    const group: PrivateSentinelGroup = {
      primaryPort,
      replicaPort,
      sentinelPort,
      url: `redis+sentinel://:${DATA_PASSWORD}@127.0.0.1:${sentinelPort}/${PRIMARY_NAME}?sentinel_password=${SENTINEL_PASSWORD}`,
      async primaryAddress() {
        const reply = await cli(sentinelPort, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', PRIMARY_NAME);
        const [host, port] = reply.trim().split('\n');
        return host && port ? `${host}:${port}` : undefined;
      },
      replication: (port) => cli(port, 'INFO', 'replication').then(fields),
      async replicaCaughtUp() {
        const target = Number((await group.replication(primaryPort)).master_repl_offset);
        await until(
          async () => Number((await group.replication(replicaPort)).slave_repl_offset ?? -1) >= target,
          `the replica to reach offset ${target}`,
          20_000,
        );
      },
      async cutReplication() {
        cutAt = Date.now();
        await cli(primaryPort, 'ACL', 'SETUSER', REPLICATION_USER, 'off');
        await cli(primaryPort, 'CLIENT', 'KILL', 'USER', REPLICATION_USER);
        await until(
          async () => (await group.replication(replicaPort)).master_link_status === 'down',
          'the replica to lose its link',
          10_000,
        );
      },
      killPrimary: () => killServer(children.get(primaryPort)!),
      async promoted(timeoutMs = 30_000) {
        // Sentinel passes over a replica whose link has been down longer than about 10 × down-after.
        const cut = cutAt === undefined ? '' : ` (its link was cut ${((Date.now() - cutAt) / 1000).toFixed(1)} s ago;`;
        const limit = cutAt === undefined ? '' : ` Sentinel skips a replica cut off for over ${downAfterMs / 100} s)`;
        await until(
          async () =>
            (await group.primaryAddress()) === `127.0.0.1:${replicaPort}` &&
            (await group.replication(replicaPort)).role === 'master',
          `the Sentinel to promote the replica 127.0.0.1:${replicaPort}${cut}${limit}`,
          timeoutMs,
        );
      },
      output: () => text,
      destroy,
    };
    await untilWatched(group);
    return group;
  } catch (err) {
    await destroy();
    throw err;
  }
}

/** The Sentinel learns of the replica from the primary's INFO: a failover needs it known, linked and up. */
async function untilWatched(group: PrivateSentinelGroup): Promise<void> {
  await until(
    async () => (await group.replication(group.replicaPort)).master_link_status === 'up',
    'the replica to sync',
    20_000,
  );
  await until(
    async () => {
      const replicas = await cliOutput(group.sentinelPort, ['SENTINEL', 'REPLICAS', PRIMARY_NAME], SENTINEL_PASSWORD);
      return replicas.includes(String(group.replicaPort)) && !/s_down|disconnected/.test(replicas);
    },
    'the Sentinel to know the replica',
    30_000,
  );
}

function primaryAcl(): string[] {
  const replicationUser = [REPLICATION_USER, 'on', `>${REPLICATION_PASSWORD}`, '+psync', '+replconf', '+ping'];
  // The replica is synced as soon as it asks, not after the default 5 s wait for more replicas.
  return ['--requirepass', DATA_PASSWORD, '--repl-diskless-sync-delay', '0', '--user', ...replicationUser];
}

function replicaOf(primaryPort: number): string[] {
  return [
    ...['--requirepass', DATA_PASSWORD],
    ...['--replicaof', '127.0.0.1', String(primaryPort)],
    ...['--masteruser', REPLICATION_USER, '--masterauth', REPLICATION_PASSWORD],
  ];
}

/** A config file of its own first (CONFIG REWRITE at a promotion needs one), then the test's settings. */
async function serverArgs(dir: string, port: number, extra: string[]): Promise<string[]> {
  const file = join(dir, `redis-${port}.conf`);
  await writeFile(file, '');
  return [file, ...redisServerArgs(port, dir, ['--dbfilename', `dump-${port}.rdb`, '--appendonly', 'no', ...extra])];
}

/**
 * Quorum 1 (one Sentinel), a short down-after so the failover comes within seconds, though long
 * enough that a replica cut off up to 10 × down-after before the failover (30 s) may still be
 * chosen: a loaded machine may take 20 s between the cut and the kill.
 */
async function sentinelArgs(dir: string, port: number, primaryPort: number, downAfterMs: number): Promise<string[]> {
  const file = join(dir, `sentinel-${port}.conf`);
  const lines = [
    `port ${port}`,
    'bind 127.0.0.1',
    `dir ${dir}`,
    `requirepass ${SENTINEL_PASSWORD}`,
    `sentinel monitor ${PRIMARY_NAME} 127.0.0.1 ${primaryPort} 1`,
    `sentinel auth-pass ${PRIMARY_NAME} ${DATA_PASSWORD}`,
    `sentinel down-after-milliseconds ${PRIMARY_NAME} ${downAfterMs}`,
    `sentinel failover-timeout ${PRIMARY_NAME} ${downAfterMs * 10}`,
    `sentinel parallel-syncs ${PRIMARY_NAME} 1`,
  ];
  await writeFile(file, `${lines.join('\n')}\n`);
  return [file, '--sentinel', '--daemonize', 'no', '--logfile', ''];
}

function fields(info: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of info.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

function cliOutput(port: number, args: string[], password: string): Promise<string> {
  return run('redis-cli', ['-p', String(port), '--no-auth-warning', '-a', password, ...args]).then(
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
