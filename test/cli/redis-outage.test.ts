import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli, type RunningCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { batchRead, startFreezableLink } from '../helpers/frozen-link.js';
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

describe('short commands: they do not wait for Redis', () => {
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

  it('status whose Redis dies under it: one line naming REDIS_URL, exit 1, no stack', async () => {
    // The command's one read held by a link, which then refuses the connection: Redis died mid-command.
    const link = await startFreezableLink({ host: '127.0.0.1', port: redis.port });
    link.freezeOn(batchRead(t.config.QUEUE_PREFIX));
    try {
      const status = rig.start(['status', 'b-any'], { REDIS_URL: link.url });
      await link.untilFrozen();
      await link.cut();
      const exit = await status.exit('status to end');
      const text = status.output();
      expect(exit, text).toEqual({ code: 1, signal: null });
      expect(text).toMatch(
        /^acronis-onboard: Redis at redis:\/\/127\.0\.0\.1:\d+ went away while the command ran: run it again once Redis answers \(REDIS_URL\)$/m,
      );
      expect(text).not.toMatch(/\n\s+at \S+/);
    } finally {
      await link.close();
    }
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

describe('work across Redis outages', () => {
  let work: RunningCli | undefined;
  beforeEach(() => rig.ensureRedis());

  /** The process the first test started: the next two follow it, and say so when it is not there. */
  function sameWork(): RunningCli {
    if (!work || work.child.exitCode !== null || work.child.signalCode !== null)
      throw new Error('the work process of "work started before Redis" is not running: see that test');
    return work;
  }

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
    const work = sameWork();
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
    const work = sameWork();
    work.child.kill('SIGTERM');
    expect(await work.exit('exit after SIGTERM')).toEqual({ code: 0, signal: null });
    expect(work.output()).toMatch(/workers stopped/);
  });
});

/** How a test takes Redis away from the import, and gives it back. */
interface Outage {
  /** Returns once the import's Redis is gone. */
  begin(importing: RunningCli): Promise<void>;
  end(): Promise<void>;
}

/**
 * `import --wait` rides out a Redis restart wherever it falls: from the enqueue's last read to
 * the summary, every read after the batch is written waits for Redis instead of ending the
 * command (docs/resilience.md). The test waits for the warning, gives Redis back (and a worker,
 * if there is none yet) and reads the outcome.
 */
async function importAcrossOutage(label: string, outage: Outage, env: Record<string, string> = {}): Promise<void> {
  const customers = sampleCustomers(4, label);
  const importing = rig.start(['import', '--wait', tempCsv(`${label}.csv`, csvOf(customers))], env);
  await outage.begin(importing);
  await importing.waitFor(UNREACHABLE, 'the outage warning');
  await outage.end();
  await importing.waitFor(BACK, 'the back line');
  const exit = await importing.exit('the summary');
  const text = importing.output();
  expect(exit, text).toEqual({ code: 0, signal: null });
  expect(text).toContain('all 4 customers onboarded');
  expectToldOnceEachWay(text);
}

/** SIGTERM, and its exit awaited, for a command a test started and may have left running. */
async function stopped(cli: RunningCli | undefined): Promise<void> {
  if (!cli || cli.child.exitCode !== null || cli.child.signalCode !== null) return;
  cli.child.kill('SIGTERM');
  await cli.exit('the exit after SIGTERM');
}

function expectToldOnceEachWay(text: string): void {
  expect(count(text, UNREACHABLE), text).toBe(1);
  expect(count(text, BACK), text).toBe(1);
  expect(text, 'a refused command reached the user').not.toMatch(/Stream isn|MaxRetriesPerRequest| {4}at /);
  expect(text, 'a log line per retry').not.toMatch(/"level":(40|50)/);
}

describe('import --wait across a Redis restart', () => {
  beforeEach(() => rig.ensureRedis());

  it('killed while it waits for a worker: prints its summary and exits 0; the outage told once each way', async () => {
    let work: RunningCli | undefined;
    try {
      // No worker yet: the batch cannot end before Redis goes.
      await importAcrossOutage('Waiting', {
        async begin(importing) {
          await importing.waitFor(/no worker is connected/, 'the import to wait');
          await redis.kill();
        },
        async end() {
          await rig.restartRedis();
          work = rig.start(['work']);
        },
      });
    } finally {
      await stopped(work);
    }
  });

  /**
   * The import reads its batch back after writing it (the enqueue's last read, then the
   * report's). A link between the import and Redis holds the chosen read, then drops the
   * connection and refuses new ones, as a dead Redis does, whatever the machine's load: ioredis
   * fails the read in flight with MaxRetriesPerRequestError once its first reconnect is refused
   * (were it let through, the read would be sent again and the race not met). The import prints
   * its batch only after that read, so the link stays cut until it does. The worker reaches
   * Redis directly. The following's own first read: test/cli/batch-progress.test.ts.
   */
  describe('Redis gone with a read of the batch in flight', () => {
    let work: RunningCli | undefined;
    beforeAll(async () => {
      await rig.ensureRedis();
      work = rig.start(['work']);
      await work.waitFor(/workers started/, 'the workers to start');
    });
    afterAll(() => stopped(work));

    it.each([
      [1, "the enqueue's last read"],
      [2, "the report's read"],
    ])('read %i (%s): it waits, then prints its summary', async (nth) => {
      const link = await startFreezableLink({ host: '127.0.0.1', port: redis.port });
      link.freezeOn(batchRead(t.config.QUEUE_PREFIX), nth);
      try {
        const outage = {
          async begin(importing: RunningCli) {
            await link.untilFrozen();
            await link.cut();
            await importing.waitFor(/^batch \S+/m, 'the import to go on without Redis');
          },
          end: () => link.restore(),
        };
        await importAcrossOutage(`Read${nth}`, outage, { REDIS_URL: link.url });
      } finally {
        await link.close();
      }
    });
  });
});

describe('stopping with Redis down', () => {
  beforeEach(() => rig.ensureRedis());

  /** Redis killed under a running command, then SIGTERM: it must exit 0 after stopping its workers, not hang. */
  async function sigtermWithRedisDown(cli: RunningCli, ready: RegExp): Promise<void> {
    await cli.waitFor(ready, 'the command to start');
    const from = cli.output().length;
    await redis.kill();
    await cli.waitFor(UNREACHABLE, 'the outage warning', from);
    cli.child.kill('SIGTERM');
    expect(await cli.exit('exit after SIGTERM')).toEqual({ code: 0, signal: null });
    expect(cli.output().slice(from)).toMatch(/workers stopped/);
  }

  it('SIGTERM to work with Redis down exits (SHUTDOWN_TIMEOUT_MS 1000): no hang', async () => {
    await sigtermWithRedisDown(rig.start(['work']), /workers started/);
  });

  it('SIGTERM to start (server and workers) with Redis down exits 0', async () => {
    const both = rig.start(['start'], { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars', PORT: '0' });
    await sigtermWithRedisDown(both, /listening on http/);
  });

  it('a second SIGINT exits at once while the first is still letting a hung step finish', async () => {
    t.sim.configure({ faults: [{ kind: 'hang', path: '^/tenants$', methods: ['POST'], hangMs: 120_000 }] });
    try {
      const work = rig.start(['work'], { SHUTDOWN_TIMEOUT_MS: '60000', ACRONIS_TIMEOUT_MS: '120000' });
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
      expect(await work.exit('exit after the second SIGINT')).toEqual({ code: 130, signal: null });
      expect(work.output()).toContain('SIGINT again; exiting now');
    } finally {
      t.sim.configure({ faults: [] });
    }
  });
});
