import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueDrained } from '../helpers/lifecycle.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { spawnWorkerProcess } from '../helpers/worker-process.js';
import { runAdopt } from './helpers.js';

/** A worker process killed in the middle of adoptions: each tenant is stamped once, each customer recorded once. */
const CUSTOMERS = 30;
let t: TestPipeline;
const children: ChildProcess[] = [];

beforeAll(async () => {
  // A short lock, so a killed worker's jobs are seen stalled within seconds; a low budget, so the
  // adoptions take seconds and the worker dies in the middle of them.
  t = await startTestPipeline({
    label: 'adopt-crash',
    sim: { customers: CUSTOMERS },
    env: { JOB_LOCK_MS: '3000', ACRONIS_RATE_LIMIT: '10' },
  });
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await t?.close();
});

describe('a worker process killed in the middle of adoptions', { timeout: 300_000 }, () => {
  it('SIGKILL: a second worker ends every adoption; no tenant is stamped twice', async () => {
    const first = spawnWorkerProcess(t.config, children);
    const report = await runAdopt(t, { allUnmanaged: true, keyFrom: 'tenant-id' });
    const batchId = report.queued!.result.batch.id;
    await until(async () => ((await t.pipeline.store.getBatch(batchId))?.done ?? 0) >= 3, 'a few adoptions done');
    expect((await t.pipeline.store.getBatch(batchId))?.ended, 'every adoption ended before the kill').toBe(false);
    first.child.kill('SIGKILL');
    await once(first.child, 'exit');

    const second = spawnWorkerProcess(t.config, children);
    expect(await t.waitForBatch(batchId, 120_000)).toMatchObject({ done: CUSTOMERS, failed: 0 });
    await queueDrained(t);
    const children_ = t.sim.state().tenants.filter((x) => x.parent_id === t.sim.seed.partnerTenantId);
    for (const tenant of children_) {
      expect(tenant.customer_id, tenant.name).toBe(`acronis-${tenant.id}`);
      // Seeded at version 1: exactly one write since, the stamp.
      expect(tenant.version, tenant.name).toBe(2);
      const record = await t.pipeline.store.getCustomer(`acronis-${tenant.id}`);
      expect(record, tenant.name).toMatchObject({ state: 'done', facts: { tenantId: tenant.id, adopted: true } });
    }
    second.child.kill('SIGTERM');
    const [code] = (await once(second.child, 'exit')) as [number | null];
    expect(code, second.output()).toBe(0);
  });
});
