import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf } from '../../src/onboarding/customer-request.js';
import { batchEnded } from '../../src/workers/action-store.js';
import { askFor, expectAppliedOnce, queueDrained, tenantVersions, waitForActions } from '../helpers/lifecycle.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { spawnWorkerProcess } from '../helpers/worker-process.js';

let t: TestPipeline;
const children: ChildProcess[] = [];
const customers = sampleCustomers(16, 'ActCrash');
const keys = customers.map(customerKeyOf);
const suspended = keys.slice(0, 10);
const offboarded = keys.slice(10);

beforeAll(async () => {
  // A short lock, so the jobs of a killed worker are noticed as stalled within seconds; a low
  // budget, so the actions take seconds and the worker dies in the middle of them.
  t = await startTestPipeline({ label: 'act-crash', env: { JOB_LOCK_MS: '3000', ACRONIS_RATE_LIMIT: '8' } });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await t?.close();
});

describe('a worker process killed in the middle of actions', () => {
  it('SIGKILL: a second worker ends every action, each applied once (one disable per tenant, one deletion)', async () => {
    const first = spawnWorkerProcess(t.config, children);
    const { batch } = await t.enqueue(customers);
    expect(await t.waitForBatch(batch.id, 90_000)).toMatchObject({ done: 16 });
    const before = tenantVersions(t, keys);

    const suspend = await askFor(t, 'suspend', suspended);
    const offboard = await askFor(t, 'offboard', offboarded, { graceMs: 0 });
    const all = async () => [
      ...(await t.pipeline.actions.batchActions(suspend.batchId)),
      ...(await t.pipeline.actions.batchActions(offboard.batchId)),
    ];
    const ended = (a: { state: string }) => ['done', 'deleted'].includes(a.state);
    await until(async () => (await all()).filter(ended).length >= 3, 'a few actions ended');
    expect(batchEnded(await all()), 'every action ended before the worker could be killed').toBe(false);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = spawnWorkerProcess(t.config, children);
    const suspends = await waitForActions(t, suspend.batchId, 90_000);
    const offboards = await waitForActions(t, offboard.batchId, 90_000);
    await queueDrained(t);
    expect(suspends.map((a) => a.state)).toEqual(suspended.map(() => 'done'));
    expect(offboards.map((a) => a.state)).toEqual(offboarded.map(() => 'deleted'));

    await expectAppliedOnce(t, before, { suspended, offboarded });
    second.child.kill('SIGTERM');
    const [code] = (await once(second.child, 'exit')) as [number | null];
    expect(code, second.output()).toBe(0);
  });
});
