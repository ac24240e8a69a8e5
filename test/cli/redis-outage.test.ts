import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type RunningCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { sampleCustomers, type TestPipeline } from '../helpers/pipeline.js';
import type { PrivateRedisServer } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';
import { BACK, count, startOutageRig, UNREACHABLE, type OutageRig } from '../helpers/outage.js';

/**
 * The real CLI across Redis outages (docs/resilience.md): a private redis-server with AOF is
 * killed and started again on the same port and directory, never the shared 6379.
 */
let rig: OutageRig;
let redis: PrivateRedisServer;
let t: TestPipeline;

beforeAll(async () => {
  rig = await startOutageRig({
    label: 'redis-outage',
    env: { SHUTDOWN_TIMEOUT_MS: '1000', ACRONIS_RATE_LIMIT: '40' },
    sim: { latencyMs: 20 },
  });
  ({ redis, t } = rig);
});
afterAll(() => rig?.close());

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
    const work = rig.start(['work'], { REDIS_URL: `redis://127.0.0.1:${port}` });
    await work.waitFor(/is unreachable; waiting for it \(REDIS_URL\)/, 'the start-up warning');
    work.child.kill('SIGINT');
    expect(await work.exited).toEqual({ code: 130, signal: null });
  });
});

describe('work and import --wait across Redis outages', () => {
  let work: RunningCli;

  it('work started before Redis is there connects when it appears and onboards a batch', async () => {
    await redis.kill();
    work = rig.start(['work']);
    await work.waitFor(UNREACHABLE, 'the start-up warning');
    await rig.restartRedis();
    await work.waitFor(/connected to Redis after [\d.]+ s/, 'the connected line');
    await work.waitFor(/workers started/, 'the workers to start');
    const { batch } = await t.enqueue(sampleCustomers(2, 'Late'));
    await rig.batchDone(batch.id);
    expect(count(work.output(), UNREACHABLE)).toBe(1);
  });

  it('work across an outage: one warning, one back line, jobs queued before and after are onboarded', async () => {
    const from = work.output().length;
    const before = await t.enqueue(sampleCustomers(6, 'Before'));
    await redis.kill();
    await work.waitFor(UNREACHABLE, 'the outage warning', from);
    await rig.restartRedis();
    await work.waitFor(BACK, 'the back line', from);
    const after = await t.enqueue(sampleCustomers(3, 'After'));
    await rig.batchDone(before.batch.id);
    await rig.batchDone(after.batch.id);
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
    const importing = rig.start(['import', '--wait', tempCsv('outage.csv', csvOf(customers))]);
    // No worker yet: the batch cannot end before Redis goes.
    await importing.waitFor(/no worker is connected/, 'the import to wait');
    await redis.kill();
    await importing.waitFor(UNREACHABLE, 'the outage warning');
    await rig.restartRedis();
    await importing.waitFor(BACK, 'the back line');
    work = rig.start(['work']);
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
    await rig.restartRedis();
  }

  it('SIGTERM to work with Redis down exits (SHUTDOWN_TIMEOUT_MS 1000): no hang', async () => {
    await sigtermWithRedisDown(work, /workers started/);
  });

  it('SIGTERM to start (server and workers) with Redis down exits 0', async () => {
    const both = rig.start(['start'], { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars', PORT: '0' });
    await sigtermWithRedisDown(both, /listening on http/);
  });

  it('a second SIGINT exits at once while the first is still letting a hung step finish', async () => {
    t.sim.configure({ faults: [{ kind: 'hang', path: '^/tenants$', methods: ['POST'], hangMs: 120_000 }] });
    try {
      work = rig.start(['work'], { SHUTDOWN_TIMEOUT_MS: '60000', ACRONIS_TIMEOUT_MS: '120000' });
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
