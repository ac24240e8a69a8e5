import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import {
  DATA_PASSWORD,
  SENTINEL_PASSWORD,
  startPrivateSentinelGroup,
  type PrivateSentinelGroup,
} from '../helpers/redis-sentinel.js';
import { whileRedisMayBeDown } from '../helpers/redis-server.js';
import { until } from '../helpers/wait.js';
import { customerKeyOf, type CustomerRequest } from '../../src/onboarding/customer-request.js';
import type { CustomerDrift, SweepSummary } from '../../src/reconcile/drift.js';
import { OnboardingStore, type CustomerRecord } from '../../src/workers/onboarding-store.js';
import { redactUrl } from '../../src/redis/connection.js';

// A primary, a replica and a Sentinel of its own on free ports: the shared 6379 is never touched.
let group: PrivateSentinelGroup;
let t: TestPipeline;
/** A plain connection to the replica itself, to read what it holds before it is promoted. */
let replica: Redis | undefined;

beforeAll(async () => {
  group = await startPrivateSentinelGroup();
  t = await startTestPipeline({
    label: 'sentinel',
    env: {
      REDIS_URL: group.url,
      // 30/s and 20 ms per call: the first batch takes about 6 s, room to cut replication mid-way.
      ACRONIS_RATE_LIMIT: '30',
      // Locks held on the old primary expire on the new one: the steps running then run again soon.
      JOB_LOCK_MS: '4000',
    },
    sim: { latencyMs: 20 },
  });
  await t.startWorkers();
});
afterAll(async () => {
  replica?.disconnect();
  // The servers go whatever the pipeline's close met, so no redis-server outlives the file.
  try {
    await t?.close();
  } finally {
    await group?.destroy();
  }
});

const keysOf = (customers: readonly CustomerRequest[]) => customers.map(customerKeyOf);
const states = (records: (CustomerRecord | undefined)[]) => records.map((r) => r?.state ?? 'missing');

/** `acronis-onboard reconcile … --json` in its own process, through the Sentinel like every command. */
async function reconcile(args: string[]) {
  const run = await runCli(t, ['reconcile', ...args, '--json']);
  expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
  return JSON.parse(run.stdout) as { summary: SweepSummary; findings: CustomerDrift[]; unknown: string[] };
}

describe('the primary dies mid-batch and a replica that missed the last writes takes over (Sentinel)', () => {
  it('`check` says which primary the Sentinel gives and that a failover could happen', async () => {
    const checked = await runCli(t, ['check']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toMatch(
      new RegExp(
        `Redis Sentinel   ok \\(primary "onboard-primary" at 127\\.0\\.0\\.1:${group.primaryPort} .*1 of 1 replica up; ` +
          'OK 1 usable Sentinels',
      ),
    );
    // The replica that may become the primary gets the primary's settings check (no persistence here).
    expect(checked.stdout).toContain(
      `Redis replicas   warning (replica 127.0.0.1:${group.replicaPort}: Redis persistence is off (appendonly no, save "")`,
    );
  });

  it('the workers follow the Sentinel to the new primary; what was lost is found; no customer is made twice', async () => {
    // 30 customers imported while the replica keeps up; 10 more arrive once it has fallen behind.
    const first = sampleCustomers(30, 'Failover');
    const late = sampleCustomers(10, 'FailoverLate');
    const all = [...first, ...late];
    const { batch } = await t.enqueue(first);
    await group.replicaCaughtUp();
    const batchNow = () => whileRedisMayBeDown(() => t.pipeline.store.getBatch(batch.id));
    // A third of the batch: the rest (and the late batch) is the primary's alone, and short
    // enough that the Sentinel still takes a replica cut off that long ago.
    await until(async () => ((await batchNow())?.done ?? 0) >= 10, 'a third of the customers done', 30_000);
    expect(await batchNow(), 'the batch ended before replication could be cut mid-way').toMatchObject({
      ended: false,
    });

    // From here the primary acknowledges writes the replica never gets: progress and a whole batch.
    await group.cutReplication();
    const { batch: lateBatch } = await t.enqueue(late);
    await t.waitForBatch(lateBatch.id, 40_000);
    const onPrimary = await t.pipeline.store.getCustomers(keysOf(all));
    replica = new Redis(group.replicaPort, '127.0.0.1', { maxRetriesPerRequest: 1, password: DATA_PASSWORD });
    const onReplica = await new OnboardingStore(replica, t.pipeline.keys).getCustomers(keysOf(all));
    expect(states(onPrimary.slice(30)), 'the late customers on the primary').toEqual(late.map(() => 'done'));
    // The loss, before the failover: the late batch is nowhere on the replica, and customers the
    // primary finished are still queued or half-way there.
    expect(states(onReplica.slice(30)), 'the late customers on the replica').toEqual(late.map(() => 'missing'));
    const stale = first.filter((_, i) => onPrimary[i]?.state === 'done' && onReplica[i]?.state !== 'done');
    expect(stale.length, `customers done on the primary only (${states(onReplica).join(',')})`).toBeGreaterThan(0);
    // Every customer whose record moved on the primary only: its steps may run again on the new one.
    const progressLost = new Set(
      keysOf(first).filter(
        (_, i) => `${onPrimary[i]?.state}.${onPrimary[i]?.step}` !== `${onReplica[i]?.state}.${onReplica[i]?.step}`,
      ),
    );
    const primaryOffset = Number((await group.replication(group.primaryPort)).master_repl_offset);
    const replicaOffset = Number((await group.replication(group.replicaPort)).slave_repl_offset);
    expect(replicaOffset, 'replication offsets').toBeLessThan(primaryOffset);

    await group.killPrimary();
    await group.promoted();
    expect(await group.primaryAddress()).toBe(`127.0.0.1:${group.replicaPort}`);

    // The workers reconnect through the Sentinel and carry the first batch to its end on the new
    // primary: the steps whose completion was lost run again, find what they made and go on.
    await until(async () => (await batchNow())?.ended === true, 'the first batch to end on the new primary', 40_000);
    const counts = () => t.pipeline.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'failed');
    await until(async () => Object.values(await counts()).every((n) => n === 0), 'the queue to drain', 20_000);
    expect(await t.pipeline.store.getBatch(batch.id), group.output().slice(-4000)).toMatchObject({
      total: 30,
      done: 30,
      failed: 0,
    });
    expect(states(await t.pipeline.store.getCustomers(keysOf(first)))).toEqual(first.map(() => 'done'));
    // The failover was told as an outage is: once away, once back, the URL masked.
    const told = t.logs.join('');
    expect(told).toContain(`Redis at ${redactUrl(group.url)} is unreachable; waiting for it (REDIS_URL)`);
    expect(told).toMatch(/Redis is back after \d+\.\d s/);
    // The late batch left no trace on the new primary: no batch, no record, no step job.
    expect(await t.pipeline.store.getBatch(lateBatch.id)).toBeUndefined();
    expect(states(await t.pipeline.store.getCustomers(keysOf(late)))).toEqual(late.map(() => 'missing'));

    // `reconcile` over the whole install finds nothing to heal: nothing it holds names the late
    // customers, and a tenant whose customer_id it does not know may be another install's.
    const swept = await reconcile(['--full']);
    expect(swept.summary.healed, JSON.stringify(swept.findings.map((f) => f.customerId))).toBe(0);
    // Asked for them by id (the source's list), it finds each tenant by its customer_id and
    // rebuilds the record from the API, as onboarded.
    const healed = await reconcile(['--customer', ...keysOf(late)]);
    expect(healed.summary.healed).toBe(late.length);
    expect(healed.unknown).toEqual([]);
    for (const f of healed.findings) expect(f.differences.map((d) => d.kind)).toContain('record-healed');

    // In Acronis every customer exists once: one tenant with its customer_id, one user.
    const state = t.sim.state();
    const onboarded = expectEachOnboardedOnce(state, all);
    // What a re-run without its lost intent may repeat: an activation e-mail and an agent token,
    // and only for a customer whose progress was lost.
    for (const [i, customer] of all.entries()) {
      const { tenant, user } = onboarded[i]!;
      // The token is made in the admin's personal tenant, under the customer's.
      const scopes = [tenant.id, user.personal_tenant_id];
      const tokens = state.registrationTokens.filter((r) => scopes.includes(r.tenant_uuid as string)).length;
      const most = progressLost.has(customerKeyOf(customer)) ? 2 : 1;
      expect(user.activation_emails_sent, `${customer.name}: activation e-mails`).toBeLessThanOrEqual(most);
      expect(tokens, `${customer.name}: agent tokens`).toBeLessThanOrEqual(most);
      expect(tokens, `${customer.name}: agent tokens`).toBeGreaterThanOrEqual(1);
    }
    // And every customer is done in the store, with the tenant and user Acronis holds.
    const records = await t.pipeline.store.getCustomers(keysOf(all));
    for (const [i, customer] of all.entries())
      expect(records[i], customer.name).toMatchObject({
        state: 'done',
        facts: { tenantId: onboarded[i]!.tenant.id, userId: onboarded[i]!.user.id },
      });
  }, 120_000); // about 30 s on a loaded 2-core machine; the waits above bound each phase

  it('`check` names the primary the Sentinel gives now: the promoted replica, with no replica left to take over', async () => {
    const checked = await runCli(t, ['check']);
    expect(checked.code, checked.stderr).toBe(0);
    expect(checked.stdout).toContain(`Redis            warning (${redactUrl(group.url)}, prefix ${t.prefix}): `);
    // Neither password is shown, nor logged by the workers through the failover.
    for (const text of [checked.stdout, checked.stderr, t.logs.join('')])
      expect(text).not.toMatch(new RegExp(`${DATA_PASSWORD}|${SENTINEL_PASSWORD}`));
    expect(checked.stdout).toMatch(
      new RegExp(
        `Redis Sentinel   warning \\(primary "onboard-primary" at 127\\.0\\.0\\.1:${group.replicaPort} ` +
          `\\(as Sentinel 127\\.0\\.0\\.1:${group.sentinelPort} sees it\\), 0 of 1 replica up; `,
      ),
    );
    // The old primary, down, is not checked.
    expect(checked.stdout).not.toContain('Redis replicas');
  });
});
