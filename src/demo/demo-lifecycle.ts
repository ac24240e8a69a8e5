import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../app/app.js';
import { actionLine } from '../cli/lifecycle-command.js';
import type { ActionName, ActionParams, Requester } from '../lifecycle/action.js';
import { batchEnded, type ActionRecord } from '../workers/action-store.js';
import { checkActions, enqueueActions } from '../workers/enqueue-action.js';

/**
 * After the import, the demo shows a customer's life after day one (docs/lifecycle.md) on two of
 * the CSV's customers, as an operator asks for it from the CLI: one suspended, then resumed; one
 * offboarded — disabled now, its deletion pending for OFFBOARD_GRACE_DAYS, listed on the
 * dashboard's /lifecycle page. Each goes through the same checks, queue and workers as
 * `acronis-onboard suspend|resume|offboard`.
 */
const DEMO_REQUESTER: Requester = { kind: 'operator', label: 'operator (demo)' };
const DAY_MS = 24 * 3600 * 1000;

export async function demoLifecycle(
  app: App,
  customers: { suspend: string; offboard: string },
  print: (line: string) => void,
  stop: AbortSignal,
): Promise<void> {
  const deps = await app.actionEnqueueDeps();
  const graceMs = Math.round(app.config.OFFBOARD_GRACE_DAYS * DAY_MS);
  const steps: [ActionName, string, ActionParams][] = [
    ['suspend', customers.suspend, {}],
    ['resume', customers.suspend, {}],
    ['offboard', customers.offboard, { graceMs }],
  ];
  print(`lifecycle: as an operator would (acronis-onboard suspend|resume|offboard), on two onboarded customers:`);
  for (const [action, customer, params] of steps) {
    if (stop.aborted) return;
    const { accepted, problems } = await checkActions(deps, [{ customer, action, params, requester: DEMO_REQUESTER }]);
    for (const p of problems) print(`  ${action} ${customer} refused: ${p.field}: ${p.reason}`);
    if (accepted.length === 0) continue;
    const queued = await enqueueActions(deps, { action, source: 'demo', label: `demo ${action}` }, accepted);
    for (const a of await untilEnded(app, queued.batchId, stop)) print(actionLine(a));
  }
}

async function untilEnded(app: App, batchId: string, stop: AbortSignal): Promise<ActionRecord[]> {
  for (;;) {
    const actions = await app.actions.batchActions(batchId);
    if (batchEnded(actions) || stop.aborted) return actions;
    await sleep(200);
  }
}
