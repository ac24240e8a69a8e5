import type { ActionName, ActionParams, Requester } from '../../src/lifecycle/action.js';
import { expect } from 'vitest';
import { batchEnded, type ActionRecord } from '../../src/workers/action-store.js';
import { checkActions, enqueueActions, type QueuedActions } from '../../src/workers/enqueue-action.js';
import type { TestPipeline } from './pipeline.js';
import { until } from './wait.js';

export const OPERATOR: Requester = { kind: 'operator', label: 'operator (test)' };

/** Checks and queues one action per customer as one batch; throws on any refusal. */
export async function askFor(
  t: TestPipeline,
  action: ActionName,
  customers: readonly string[],
  params: ActionParams = {},
): Promise<QueuedActions> {
  const deps = {
    queue: t.pipeline.queue,
    store: t.pipeline.store,
    actions: t.pipeline.actions,
    partnerTenantId: t.sim.seed.partnerTenantId,
  };
  const requests = customers.map((customer) => ({ customer, action, params, requester: OPERATOR }));
  const { accepted, problems } = await checkActions(deps, requests);
  if (problems.length > 0) throw new Error(`refused: ${JSON.stringify(problems)}`);
  return enqueueActions(deps, { action, source: 'test', label: action }, accepted);
}

/** Waits until none of the batch's actions is queued, waiting or running. */
export async function waitForActions(t: TestPipeline, batchId: string, timeoutMs = 60_000): Promise<ActionRecord[]> {
  let actions: ActionRecord[] = [];
  await until(
    async () => {
      actions = await t.pipeline.actions.batchActions(batchId);
      return actions.length > 0 && batchEnded(actions);
    },
    `action batch ${batchId} to end`,
    timeoutMs,
  );
  return actions;
}

/** Calls to one endpoint since the last reset, by status. */
export function calls(t: TestPipeline, endpoint: string): number {
  return Object.values(t.sim.stats().byEndpoint[endpoint] ?? {}).reduce((a, b) => a + b, 0);
}

/** Each customer's tenant version at the simulator (deleted tenants included): every write adds one. */
export function tenantVersions(t: TestPipeline, keys: readonly string[]): Map<string, number> {
  const tenants = t.sim.state().tenants;
  return new Map(keys.map((key) => [key, tenants.find((x) => x.customer_id === key)!.version as number]));
}

/** No action step job left active, waiting, delayed or failed: nothing lost, nothing stuck. */
export async function queueDrained(t: TestPipeline, whileRedisMayBeDown = false): Promise<void> {
  const counts = () =>
    t.pipeline.queue.getJobCounts('active', 'waiting', 'delayed', 'prioritized', 'waiting-children', 'failed');
  await until(async () => {
    const now = whileRedisMayBeDown ? await counts().catch(() => undefined) : await counts();
    return now !== undefined && Object.values(now).every((n) => n === 0);
  }, 'no step job active, waiting, delayed or failed');
}

/**
 * Each suspend and offboard applied once: every write adds one to the tenant's version, so a
 * suspend sent one PUT and an offboard one PUT (its disable) and one DELETE, whatever a crash or
 * an outage cut off; no deletion left pending, and every customer's turn given back.
 */
export async function expectAppliedOnce(
  t: TestPipeline,
  before: Map<string, number>,
  customers: { suspended: readonly string[]; offboarded: readonly string[] },
): Promise<void> {
  const { suspended, offboarded } = customers;
  const after = tenantVersions(t, [...suspended, ...offboarded]);
  const tenants = t.sim.state().tenants;
  const tenantOf = (key: string) => tenants.find((x) => x.customer_id === key)!;
  for (const key of suspended) {
    expect(after.get(key), key).toBe(before.get(key)! + 1);
    expect(tenantOf(key).enabled, key).toBe(false);
  }
  for (const key of offboarded) {
    expect(after.get(key), key).toBe(before.get(key)! + 2);
    expect(tenantOf(key).deleted_at, key).not.toBeNull();
  }
  expect(await t.pipeline.actions.pendingDeletions()).toEqual([]);
  for (const key of [...suspended, ...offboarded]) expect(await t.pipeline.actions.openActions(key), key).toEqual([]);
}
