import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../app/app.js';
import { tty } from '../cli/terminal-text.js';
import { loadProfile } from '../onboarding/profile.js';
import { reconcileDeps } from '../reconcile/deps.js';
import { runSweep, type SweepReport } from '../reconcile/sweep.js';
import { batchEnded } from '../workers/action-store.js';

/**
 * After the lifecycle, the demo shows reconcile (docs/reconcile.md) on one onboarded customer:
 * someone edits it in the Acronis console (through the simulator's /__sim console edits: a quota
 * lowered, an item turned off, the admin's role changed), `reconcile` tells each difference in
 * words, `--fix` queues the change that cures them, the admin signs in and installs an agent, and
 * `reconcile` again finds nothing.
 */
export async function demoReconcile(
  app: App,
  customer: string,
  print: (line: string) => void,
  stop: AbortSignal,
): Promise<void> {
  const facts = (await app.store.getCustomer(customer))?.facts;
  if (!facts?.tenantId || !facts.userId) return;
  const deps = await reconcileDeps(app, await loadProfile(app.config.ONBOARDING_PROFILE));
  const items = await app.acronis.getOfferingItems(facts.tenantId, { edition: '*', status: 1 });
  const named = (usage: string) => items.find((i) => i.usage_name === usage)?.name ?? usage;
  print(tty`reconcile: ${customer} edited in the Acronis console (quota, an item off, the admin's role):`);
  await consoleEdit(app, 'quota', { tenant_id: facts.tenantId, name: named('workstations'), value: 1, overage: 0 });
  await consoleEdit(app, 'item', { tenant_id: facts.tenantId, name: named('servers'), status: 0 });
  await consoleEdit(app, 'user', { user_id: facts.userId, roles: ['readonly_admin'] });
  const found = await runSweep(deps, { customerIds: [customer], fix: true });
  printDifferences(found, print);
  for (const fix of found.fixes) {
    if (!fix.queued) continue;
    print(tty`  --fix: change ${fix.queued.actionId} queued`);
    while (!batchEnded(await app.actions.batchActions(fix.queued.batchId)) && !stop.aborted) await sleep(200);
  }
  print('  the admin signs in and installs an agent');
  await consoleEdit(app, 'user', { user_id: facts.userId, activated: true });
  await consoleEdit(app, 'usage', { tenant_id: facts.tenantId, name: named('workstations'), value: 1 });
  const again = await runSweep(deps, { customerIds: [customer] });
  printDifferences(again, print);
}

function printDifferences(report: SweepReport, print: (line: string) => void): void {
  for (const finding of report.findings) {
    if (finding.differences.length === 0) print(tty`  reconcile ${finding.customerId}: no difference`);
    for (const d of finding.differences) print(tty`  reconcile ${finding.customerId}: ${d.kind}: ${d.text}`);
  }
}

/** The simulator's console edit (docs/simulator.md "Console edits"): the demo runs against it. */
async function consoleEdit(app: App, what: string, body: object): Promise<void> {
  const response = await fetch(`${app.dataCenterUrl}/__sim/${what}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 204) throw new Error(`the simulator refused the console edit ${what}: ${response.status}`);
}
