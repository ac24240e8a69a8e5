import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli, type RunningCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { startPrivateRedis, type PrivateRedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';

/**
 * The real CLI across Redis outages (docs/resilience.md): a private redis-server with AOF is
 * killed and started again on the same port and directory, never the shared 6379.
 */
let redis: PrivateRedisServer;
let t: TestPipeline;
const started: RunningCli[] = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  t = await startTestPipeline({
    label: 'redis-outage',
    env: { REDIS_URL: redis.url, SHUTDOWN_TIMEOUT_MS: '1000', ACRONIS_RATE_LIMIT: '40' },
    sim: { latencyMs: 20 },
  });
});
afterAll(async () => {
  for (const cli of started) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  await redis?.start().catch(() => undefined);
  await t?.close();
  await redis?.destroy();
});

function start(args: string[], env: Record<string, string> = {}): RunningCli {
  const cli = startCli(args, cliEnv(t, { LOG_LEVEL: 'info', ...env }));
  started.push(cli);
  return cli;
}

const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern, 'g')) ?? []).length;
const UNREACHABLE = /Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable; waiting for it \(REDIS_URL\)/;
const BACK = /Redis is back after [\d.]+ s/;

/** The test's own connection fails fast: it reconnects on its own, a little after the server is back. */
async function restartRedis(): Promise<void> {
  await redis.start();
  await until(async () => (await t.pipeline.redis.ping().catch(() => undefined)) === 'PONG', 'the test to reconnect');
}

async function batchDone(batchId: string): Promise<void> {
  await until(async () => {
    const batch = await t.pipeline.store.getBatch(batchId).catch(() => undefined);
    return batch?.ended === true && batch.done === batch.total;
  }, `batch ${batchId} onboarded`);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

describe('a short command with nothing on the Redis port', () => {
  it('status: one line naming REDIS_URL, exit 2, no ioredis noise', async () => {
    const port = await freePort();
    const run = await runCli(t, ['status'], { REDIS_URL: `redis://:s3cret@127.0.0.1:${port}` });
    expect(run.code).toBe(2);
    expect(run.stderr).not.toContain('Unhandled error event');
    expect(run.stderr).not.toContain('s3cret');
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${port}.*REDIS_URL`)),
    ]);
  });
});

describe('work waits for Redis at start', () => {
  it('Ctrl-C while it waits exits at once (130)', async () => {
    const port = await freePort();
    const work = start(['work'], { REDIS_URL: `redis://127.0.0.1:${port}` });
    await work.waitFor(/is unreachable; waiting for it \(REDIS_URL\)/, 'the start-up warning');
    work.child.kill('SIGINT');
    expect(await work.exited).toEqual({ code: 130, signal: null });
  });
});

describe('work and import --wait across Redis outages', () => {
  let work: RunningCli;

  it('work started before Redis is there connects when it appears and onboards a batch', async () => {
    await redis.kill();
    work = start(['work']);
    await work.waitFor(UNREACHABLE, 'the start-up warning');
    await restartRedis();
    await work.waitFor(/connected to Redis after [\d.]+ s/, 'the connected line');
    await work.waitFor(/workers started/, 'the workers to start');
    const { batch } = await t.enqueue(sampleCustomers(2, 'Late'));
    await batchDone(batch.id);
    expect(count(work.output(), UNREACHABLE)).toBe(1);
  });

  it('work across an outage: one warning, one back line, jobs queued before and after are onboarded', async () => {
    const from = work.output().length;
    const before = await t.enqueue(sampleCustomers(6, 'Before'));
    await redis.kill();
    await work.waitFor(UNREACHABLE, 'the outage warning', from);
    await restartRedis();
    await work.waitFor(BACK, 'the back line', from);
    const after = await t.enqueue(sampleCustomers(3, 'After'));
    await batchDone(before.batch.id);
    await batchDone(after.batch.id);
    const logged = work.output().slice(from);
    expect(count(logged, UNREACHABLE), logged).toBe(1);
    expect(count(logged, BACK), logged).toBe(1);
    // Nothing else at warn or error level: no line per retry, no 'worker error' / 'queue error'.
    expect(logged.match(/"level":(40|50)/g), logged).toHaveLength(1);
  });

  it('SIGTERM with Redis up: a graceful stop, exit 0', async () => {
    work.child.kill('SIGTERM');
    expect(await work.exited).toEqual({ code: 0, signal: null });
    expect(work.output()).toMatch(/workers stopped/);
  });

  it('import --wait across a restart prints its summary and exits 0; the outage told once each way', async () => {
    const customers = sampleCustomers(4, 'Waiting');
    const importing = start(['import', '--wait', tempCsv('outage.csv', csvOf(customers))]);
    // No worker yet: the batch cannot end before Redis goes.
    await importing.waitFor(/no worker is connected/, 'the import to wait');
    await redis.kill();
    await importing.waitFor(UNREACHABLE, 'the outage warning');
    await restartRedis();
    await importing.waitFor(BACK, 'the back line');
    work = start(['work']);
    expect(await importing.exited).toEqual({ code: 0, signal: null });
    const text = importing.output();
    expect(text).toContain('all 4 customers onboarded');
    expect(count(text, UNREACHABLE), text).toBe(1);
    expect(count(text, BACK), text).toBe(1);
    expect(text).not.toContain('Stream isn');
    expect(text, 'a log line per retry').not.toMatch(/"level":(40|50)/);
  });

  /** Redis killed under a running command, then SIGTERM: it must exit 0 after stopping its workers, not hang. */
  async function sigtermWithRedisDown(cli: RunningCli, ready: RegExp): Promise<void> {
    await cli.waitFor(ready, 'the command to start');
    const from = cli.output().length;
    await redis.kill();
    await cli.waitFor(UNREACHABLE, 'the outage warning', from);
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.output().slice(from)).toMatch(/workers stopped/);
    await restartRedis();
  }

  it('SIGTERM to work with Redis down exits (SHUTDOWN_TIMEOUT_MS 1000): no hang', async () => {
    await sigtermWithRedisDown(work, /workers started/);
  });

  it('SIGTERM to start (server and workers) with Redis down exits 0', async () => {
    const both = start(['start'], { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars', PORT: '0' });
    await sigtermWithRedisDown(both, /listening on http/);
  });

  it('a second SIGINT exits at once while the first is still letting a hung step finish', async () => {
    t.sim.configure({ faults: [{ kind: 'hang', path: '^/tenants$', methods: ['POST'], hangMs: 120_000 }] });
    try {
      work = start(['work'], { SHUTDOWN_TIMEOUT_MS: '60000', ACRONIS_TIMEOUT_MS: '120000' });
      await work.waitFor(/workers started/, 'the workers to start');
      const [customer] = sampleCustomers(1, 'Hung');
      await t.enqueue([customer!]);
      await until(
        async () => (await t.pipeline.store.getCustomer(customer!.external_id!))?.state === 'running',
        'the step to be in flight',
      );
      work.child.kill('SIGINT');
      await work.waitFor(/stopping: no new jobs/, 'the first SIGINT to start the drain');
      work.child.kill('SIGINT');
      expect(await work.exited).toEqual({ code: 130, signal: null });
      expect(work.output()).toContain('SIGINT again; exiting now');
    } finally {
      t.sim.configure({ faults: [] });
    }
  });
});
