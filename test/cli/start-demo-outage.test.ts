import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerRequest } from '../../src/onboarding/customer-request.js';
import type { RunningCli } from '../helpers/cli.js';
import { csvOf, tempCsv } from '../helpers/csv.js';
import { BACK, count, startOutageRig, UNREACHABLE, type OutageRig } from '../helpers/outage.js';
import { expectEachOnboardedOnce, sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { countKeys, postWebhook } from '../helpers/webhook.js';

/**
 * `start` and `demo --exit`, the commands that run the server and the workers in one process
 * (one outage tracker for both apps), across a Redis crash in the middle of a batch
 * (docs/resilience.md): a private redis-server with AOF is SIGKILLed and started again on the
 * same port, never the shared 6379.
 */
const SECRET = 'a-webhook-secret-of-24-chars';
let rig: OutageRig;

beforeAll(async () => {
  rig = await startOutageRig({
    label: 'start-demo-outage',
    env: { SHUTDOWN_TIMEOUT_MS: '1000', WEBHOOK_SECRET: SECRET },
    // Slow enough that a batch is still running when Redis goes.
    sim: { latencyMs: 60 },
  });
});
afterAll(() => rig?.close());

/** Two customers at a time, so a batch of four is still running when the first user exists. */
const start = (args: string[]) => rig.start(args, { PORT: '0', WORKER_CONCURRENCY: '2' });

/** Users the simulator holds for `customers`: one each once it is onboarded. */
const usersOf = (customers: readonly CustomerRequest[]) =>
  rig.t.sim.state().users.filter((u) => customers.some((c) => c.email === u.login)).length;

/** SIGKILLs Redis once the first of `customers` has its user, and starts it again once `cli` has said so. */
async function crashMidRun(cli: RunningCli, customers: readonly CustomerRequest[], from: number): Promise<void> {
  await until(async () => usersOf(customers) >= 1, 'the first customer to be onboarded');
  await rig.redis.kill();
  // The guard that the crash came mid-run: a batch already done would prove nothing.
  expect(usersOf(customers), 'customers onboarded before the crash').toBeLessThan(customers.length);
  await cli.waitFor(UNREACHABLE, 'the outage warning', from);
  await rig.restartRedis();
}

function expectToldOnceEachWay(text: string): void {
  expect(count(text, UNREACHABLE), text).toBe(1);
  expect(count(text, BACK), text).toBe(1);
}

describe('start across a Redis restart', () => {
  const customers = sampleCustomers(4, 'StartOutage');
  let cli: RunningCli;
  const url = () => /listening on (http:\/\/\S+)/.exec(cli.output())![1]!;

  it('onboards a batch the webhook took, each customer once, the outage told once each way', async () => {
    cli = start(['start']);
    await cli.waitFor(/listening on http:\/\/\S+ .* with workers/, 'start to listen');
    const accepted = await postWebhook(url(), SECRET, { customers });
    expect(accepted.status, accepted.text).toBe(202);
    const from = cli.output().length;
    await crashMidRun(cli, customers, from);
    await cli.waitFor(BACK, 'the back line', from);
    await rig.batchDone(accepted.body.batch_id as string);

    expectEachOnboardedOnce(rig.t.sim.state(), customers);
    const logged = cli.output().slice(from);
    expectToldOnceEachWay(logged);
    // The one warning is all: no line per retry, no 'worker error' / 'queue error' from either app.
    expect(logged.match(/"level":(40|50)/g), logged).toHaveLength(1);
  });

  it('answers /healthz after the restart', async () => {
    const response = await fetch(`${url()}/healthz`, { signal: AbortSignal.timeout(5000) });
    expect({ status: response.status, body: await response.json() }).toEqual({ status: 200, body: { redis: 'ok' } });
  });

  it('stops cleanly on SIGTERM: server and workers, exit 0', async () => {
    cli.child.kill('SIGTERM');
    expect(await cli.exited).toEqual({ code: 0, signal: null });
    expect(cli.output()).toMatch(/server stopped/);
    expect(cli.output()).toMatch(/workers stopped/);
  });
});

/**
 * The demo uses the Redis at REDIS_URL when one answers, so it runs on the private server.
 * ACRONIS_BASE_URL names this file's simulator (the demo's "real data centre" mode, --csv
 * required), so the test can count what was made at the API.
 */
describe('demo --exit across a Redis restart', () => {
  const good = sampleCustomers(4, 'DemoOutage');
  const bad = { ...sampleCustomers(1, 'DemoOutageBad')[0]!, email: 'not-an-address' };

  it('ends its import with every good row onboarded once, the outage told once each way, its keys removed', async () => {
    // LOG_LEVEL info is what a newcomer has: the demo then prints no log lines, only what it tells.
    const demo = start(['demo', '--exit', '--csv', tempCsv('demo-outage.csv', csvOf([...good, bad]))]);
    await demo.waitFor(/^batch \S+/m, 'the demo to enqueue its batch');
    const prefix = /key prefix (demo-[0-9a-f]+)/.exec(demo.output())![1]!;
    await crashMidRun(demo, good, 0);

    const { code } = await demo.exited;
    const text = demo.output();
    expect(code, text).toBe(0);
    expect(text).toContain(`${good.length} of ${good.length + 1} rows onboarded`);
    expectEachOnboardedOnce(rig.t.sim.state(), good);
    expectToldOnceEachWay(text);
    // The demo's data goes with it, an outage or not.
    expect(await countKeys(rig.t.redis, `${prefix}:*`)).toBe(0);
  });
});
