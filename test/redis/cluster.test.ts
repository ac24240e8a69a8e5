import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from 'ioredis';
import { BIN, CLI_CWD, runCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { startPrivateCluster, type PrivateRedisCluster } from '../helpers/redis-cluster.js';
import { countKeys, newWebhookSecret, postWebhook } from '../helpers/webhook.js';
import { scanKeys } from '../../src/redis/scan.js';

// Three masters of its own on free ports: the shared Redis on 6379 is not a cluster.
let cluster: PrivateRedisCluster;
let t: TestPipeline;
const secret = newWebhookSecret();
const children: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await startPrivateCluster(3);
  t = await startTestPipeline({
    label: 'cluster',
    env: { REDIS_URL: cluster.url, WEBHOOK_SECRET: secret, PORT: '0', ACRONIS_RATE_LIMIT: '40' },
  });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  // The servers go whatever the pipeline's close met, so no redis-server outlives the file.
  try {
    await t?.close();
  } finally {
    await cluster?.destroy();
  }
});

/** `acronis-onboard <command>` in its own process on the cluster; resolves `ready` once `line` is logged. */
function spawnCommand(command: string, line: RegExp, extraEnv: Record<string, string> = {}) {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: CLI_CWD };
  for (const [key, value] of Object.entries(t.config)) if (value !== undefined) env[key] = String(value);
  const child = spawn(process.execPath, [BIN, command], {
    cwd: CLI_CWD,
    env: { ...env, LOG_LEVEL: 'info', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let text = '';
  const exited = once(child, 'exit') as Promise<[number | null]>;
  const ready = new Promise<RegExpExecArray>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      text += chunk.toString();
      const match = line.exec(text);
      if (match) resolve(match);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    void exited.then(([code]) => reject(new Error(`${command} exited ${code} before "${line.source}":\n${text}`)));
  });
  ready.catch(() => undefined);
  return { child, ready, exited, output: () => text };
}

async function stopped(run: ReturnType<typeof spawnCommand>): Promise<number | null> {
  run.child.kill('SIGTERM');
  const [code] = await run.exited;
  return code;
}

/** CLUSTER KEYSLOT of every key under the install's prefix, across the masters. */
async function slotsOfInstallKeys(): Promise<Set<number>> {
  const slots = new Set<number>();
  for await (const keys of scanKeys(t.redis, `${t.prefix}:*`))
    for (const key of keys) slots.add((await t.redis.cluster('KEYSLOT', key)) as number);
  return slots;
}

describe('a 3-master Redis Cluster as REDIS_URL', () => {
  it('the config names the cluster and wraps QUEUE_PREFIX in a hash tag', () => {
    expect(t.config.REDIS_URL).toMatch(/^redis\+cluster:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+$/);
    expect(t.prefix).toMatch(/^\{test-cluster-[0-9a-f]{8}\}$/);
    expect(t.redis).toBeInstanceOf(Cluster);
  });

  it('two work processes onboard a CSV import (--wait) once each; a signed webhook is queued and its replay is not', async () => {
    // Two step jobs at a time each, so ten customers need both processes.
    const workers = [1, 2].map(() => spawnCommand('work', /workers started/, { WORKER_CONCURRENCY: '2' }));
    await Promise.all(workers.map((w) => w.ready));

    const customers = sampleCustomers(10, 'Cluster');
    const file = tempCsv('cluster.csv', csvOf(customers));
    const imported = await runCli(t, ['import', file, '--wait']);
    expect(imported.code, `${imported.stdout}\n${imported.stderr}`).toBe(0);

    const serve = spawnCommand('serve', /listening on (http:\/\/\S+)/);
    const url = (await serve.ready)[1]!;
    const [viaWebhook] = sampleCustomers(1, 'ClusterHook');
    const first = await postWebhook(url, secret, viaWebhook, { deliveryId: 'cluster-1' });
    expect(first.status, first.text).toBe(202);
    await t.waitForBatch(first.body.batch_id);
    const batches = await t.pipeline.store.listBatches(100);
    const replay = await postWebhook(url, secret, viaWebhook, { deliveryId: 'cluster-1' });
    expect(replay.status, replay.text).toBe(200);
    expect(replay.body).toMatchObject({ batch_id: first.body.batch_id, replayed: true });
    expect(await t.pipeline.store.listBatches(100)).toEqual(batches);

    const all = [...customers, viaWebhook!];
    expectEachOnboardedOnce(t.sim.state(), all);
    for (const customer of all)
      expect(await t.pipeline.store.getCustomer(customer.external_id!), customer.name).toMatchObject({ state: 'done' });
    for (const run of [serve, ...workers]) expect(await stopped(run), run.output()).toBe(0);
    // Both work processes ran steps on the cluster.
    for (const w of workers) expect(w.output().match(/"msg":"step done"/g)?.length ?? 0, w.output()).toBeGreaterThan(0);
    // Each master's settings were checked (the test cluster keeps no data, so each is warned about).
    for (const port of cluster.ports)
      expect(workers[0]!.output()).toContain(`master 127.0.0.1:${port}: Redis persistence is off`);

    // Every part ran on the cluster: BullMQ's queue, the token cache, the budget, the store, the replay keys.
    const keys = t.pipeline.keys;
    const tokenKeys = keys.tokenCache(
      t.config.ACRONIS_BASE_URL!,
      t.config.ACRONIS_CLIENT_ID!,
      t.config.ACRONIS_CLIENT_SECRET!,
    );
    for (const key of [tokenKeys.token, keys.requestBudget.schedule, keys.batches, keys.webhookDelivery('cluster-1')])
      expect(await t.redis.exists(key), key).toBe(1);
    expect(await countKeys(t.redis, `${t.prefix}:onboarding:*`)).toBeGreaterThan(0);
    const budget = await t.pipeline.budget.state();
    expect(budget.ratePerSecond).toBeGreaterThan(0);
    expect(budget.ratePerSecond).toBeLessThanOrEqual(40);
    expect(await countKeys(t.redis, `${t.prefix}:onb:customer:*`)).toBe(all.length);
    // All in the one slot of the hash tag, so scripts and MULTIs over several keys are legal.
    expect([...(await slotsOfInstallKeys())]).toHaveLength(1);
  });

  it('`check` reaches the cluster and names it without a password', async () => {
    const checked = await runCli(t, ['check']);
    expect(checked.code, checked.stderr).toBe(0);
    // `ok`, or the verdict work gives (these test masters keep no AOF): the cluster named either way.
    expect(checked.stdout).toMatch(/Redis\s+(ok|warning) \(redis\+cluster:\/\/127\.0\.0\.1:\d+,/);
    expect(checked.stdout).toContain(`prefix ${t.prefix}`);
  });
});
