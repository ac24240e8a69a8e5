import { cliEnv, startCli, type RunningCli } from './cli.js';
import { startTestPipeline, type TestPipeline, type TestPipelineOptions } from './pipeline.js';
import { startPrivateRedis, type PrivateRedisServer } from './redis-server.js';
import { until } from './wait.js';

/** The real CLI across Redis outages: what a command prints (src/redis/availability.ts), and the rig to crash one under it. */

export const UNREACHABLE = /Redis at redis:\/\/127\.0\.0\.1:\d+\/? is unreachable; waiting for it \(REDIS_URL\)/;
export const BACK = /Redis is back after [\d.]+ s/;

export const count = (text: string, pattern: RegExp) => (text.match(new RegExp(pattern, 'g')) ?? []).length;

/**
 * A private redis-server with AOF (killed and started again, never the shared 6379), a test
 * pipeline on it, and the commands a file starts on that pipeline.
 */
export interface OutageRig {
  redis: PrivateRedisServer;
  t: TestPipeline;
  /** The command with the pipeline's configuration, LOG_LEVEL info, then `env`. */
  start(args: string[], env?: Record<string, string>): RunningCli;
  /** Starts the server again after a kill; resolves once the test's own connection answers again. */
  restartRedis(): Promise<void>;
  /** Redis up for the next test, whatever the last one left (a test that failed mid-outage). */
  ensureRedis(): Promise<void>;
  /** Resolves once every customer of the batch is onboarded. */
  batchDone(batchId: string): Promise<void>;
  /** SIGKILLs what still runs (a test that failed midway), then removes the keys and the server. */
  close(): Promise<void>;
}

export async function startOutageRig(opts: TestPipelineOptions): Promise<OutageRig> {
  const redis = await startPrivateRedis();
  const t = await startTestPipeline({ ...opts, env: { ...opts.env, REDIS_URL: redis.url } });
  const started: RunningCli[] = [];
  const restartRedis = async () => {
    await redis.start();
    // The test's connection fails fast: it reconnects on its own, a little after the server is back.
    await until(async () => (await t.pipeline.redis.ping().catch(() => undefined)) === 'PONG', 'the test to reconnect');
  };
  return {
    redis,
    t,
    start(args, env = {}) {
      const cli = startCli(args, cliEnv(t, { LOG_LEVEL: 'info', ...env }));
      started.push(cli);
      return cli;
    },
    restartRedis,
    async ensureRedis() {
      if (!redis.running()) await restartRedis();
    },
    async batchDone(batchId) {
      await until(async () => {
        const batch = await t.pipeline.store.getBatch(batchId).catch(() => undefined);
        return batch?.ended === true && batch.done === batch.total;
      }, `batch ${batchId} onboarded`);
    },
    async close() {
      for (const cli of started) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
      // The keys are removed through the private server, so it must be up even after a test stopped mid-outage.
      await redis.start().catch(() => undefined);
      await t.close();
      await redis.destroy();
    },
  };
}
