import type { Profile } from '../../src/onboarding/profile.js';
import { reconcileDeps } from '../../src/reconcile/deps.js';
import type { CustomerDrift, DriftKind } from '../../src/reconcile/drift.js';
import { runSweep, type SweepOptions, type SweepReport } from '../../src/reconcile/sweep.js';
import type { RunningSimulator } from '../../src/simulator/index.js';
import type { TestPipeline } from './pipeline.js';

/** A console-style edit at the simulator (docs/simulator.md "Console edits"): `tenant`, `user`, `item`, `quota`, `usage`. */
export async function consoleEdit(sim: Pick<RunningSimulator, 'url'>, what: string, body: object): Promise<void> {
  const response = await fetch(`${sim.url}/__sim/${what}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (response.status !== 204) throw new Error(`PUT /__sim/${what}: ${response.status} ${await response.text()}`);
}

export async function sweep(t: TestPipeline, profile: Profile, opts: SweepOptions = {}): Promise<SweepReport> {
  return runSweep(await reconcileDeps(t.pipeline, profile), opts);
}

/** Each customer's drift kinds, sorted: what a test compares. */
export function kindsOf(findings: readonly CustomerDrift[]): Record<string, DriftKind[]> {
  return Object.fromEntries(findings.map((f) => [f.customerId, f.differences.map((d) => d.kind).sort()]));
}

/** The simulator's tenant and admin user of a customer. */
export function customerAt(t: TestPipeline, key: string): { tenantId: string; userId: string } {
  const state = t.sim.state();
  const tenant = state.tenants.find((x) => x.customer_id === key && x.deleted_at === null)!;
  const user = state.users.find((u) => u.tenant_id === tenant.id)!;
  return { tenantId: tenant.id, userId: user.id };
}
