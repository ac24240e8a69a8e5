import type { ActionName, ActionParams, Requester } from '../../src/lifecycle/action.js';
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
