import { afterAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli } from '../helpers/cli.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { startPrivateRedis, type PrivateRedisServer } from '../helpers/redis-server.js';

/**
 * `serve` and `work` on a Redis that would break their guarantees: each on a private
 * redis-server configured the wrong way, so the shared one is never changed.
 */
const started: { redis: PrivateRedisServer; t: TestPipeline }[] = [];

async function pipelineOn(args: string[]): Promise<TestPipeline> {
  const redis = await startPrivateRedis(args);
  const t = await startTestPipeline({ label: 'redis-settings', env: { REDIS_URL: redis.url } });
  started.push({ redis, t });
  return t;
}

afterAll(async () => {
  for (const { redis, t } of started) {
    await t.close().catch(() => undefined);
    await redis.destroy();
  }
});

describe('the Redis settings serve and work rely on', () => {
  it('maxmemory-policy other than noeviction: check, work, serve and start refuse it (exit 2), naming the setting to change', async () => {
    const t = await pipelineOn(['--maxmemory-policy', 'allkeys-lru']);
    for (const command of ['check', 'work', 'serve', 'start']) {
      const run = await runCli(t, [command], { PORT: '0', WEBHOOK_SECRET: 'a-webhook-secret-for-this-test' });
      expect(run.code, `${command}: ${run.stdout}${run.stderr}`).toBe(2);
      expect(run.stderr, command).toMatch(/REDIS_URL: Redis has maxmemory-policy allkeys-lru/);
      expect(run.stderr, command).toContain('maxmemory-policy noeviction');
    }
    await expect(t.startWorkers()).rejects.toThrow(/maxmemory-policy/);
  });

  it('persistence off: the workers start, with a clear warning naming appendonly', async () => {
    const t = await pipelineOn(['--appendonly', 'no', '--save', '']);
    await t.startWorkers();
    // (pino's JSON escapes the quotes of `save ""`)
    expect(t.logs.join('')).toMatch(
      /warning: Redis persistence is off \(appendonly no, save \\"\\"\).*Set appendonly yes/,
    );
  });

  it('persistence off: check gives the verdict work gives, and start says it once', async () => {
    const t = await pipelineOn(['--appendonly', 'no', '--save', '']);
    const check = await runCli(t, ['check']);
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).not.toMatch(/^Redis +ok/m);
    expect(check.stdout).toMatch(
      /^Redis +warning \(.*\): Redis persistence is off \(appendonly no, save ""\).*Set appendonly yes/m,
    );
    const start = startCli(
      ['start'],
      cliEnv(t, { PORT: '0', LOG_LEVEL: 'info', WEBHOOK_SECRET: 'a-webhook-secret-for-this-test' }),
    );
    try {
      await start.waitFor(/listening on http/, 'start to listen');
    } finally {
      start.child.kill('SIGTERM');
      await start.exited;
    }
    expect(start.output().match(/Redis persistence is off/g), start.output()).toHaveLength(1);
  });

  it('a Redis that forbids CONFIG: a warning that the settings could not be checked', async () => {
    const t = await pipelineOn(['--rename-command', 'CONFIG', '']);
    await t.startWorkers();
    expect(t.logs.join('')).toMatch(/warning: could not check the Redis settings/);
  });
});
