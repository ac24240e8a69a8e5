import { randomUUID } from 'node:crypto';
import { adopt, type AdoptOptions, type AdoptReport, type AdoptSource } from '../../src/adopt/adopt-run.js';
import { openAdopt } from '../../src/app/adopt-deps.js';
import type { TestPipeline } from '../helpers/pipeline.js';
import { simulatorApi } from '../helpers/simulator.js';

/** Adopting in a test: the same deps as the CLI's, one adopt run, and the simulator's view of the partner's children. */
export const OPERATOR_ADOPT = { kind: 'operator', label: 'operator (test adopt)' } as const;

export async function runAdopt(
  t: TestPipeline,
  source: AdoptSource,
  opts: Partial<AdoptOptions> = {},
): Promise<AdoptReport> {
  return adopt(await openAdopt(t.pipeline), source, { requester: OPERATOR_ADOPT, ...opts });
}

/** The partner's child named exactly `name`. */
export function childNamed(t: TestPipeline, name: string) {
  const found = t.sim.state().tenants.find((x) => x.name === name && x.parent_id === t.sim.seed.partnerTenantId);
  if (!found) throw new Error(`no child named ${name}`);
  return found;
}

export function tenantById(t: TestPipeline, id: string) {
  return t.sim.state().tenants.find((x) => x.id === id)!;
}

/** A customer tenant made elsewhere (the console, another script), optionally with a customer_id of its own. */
export async function madeElsewhere(t: TestPipeline, name: string, customerId?: string): Promise<string> {
  const api = simulatorApi(t.sim);
  const res = await api.post('/tenants', {
    name,
    parent_id: t.sim.seed.partnerTenantId,
    kind: 'customer',
    ...(customerId ? { customer_id: customerId } : {}),
  });
  if (res.status !== 201) throw new Error(`could not make ${name}: ${res.status} ${res.text}`);
  return res.body.id as string;
}

/** An activated administrator (company_admin) in the tenant, as a console user would have made. */
export async function adminIn(t: TestPipeline, tenantId: string): Promise<{ id: string; login: string }> {
  const api = simulatorApi(t.sim);
  const login = `admin-${randomUUID().slice(0, 8)}`;
  const user = await api.post('/users', { tenant_id: tenantId, login, contact: { email: `${login}@made.example` } });
  if (user.status !== 200) throw new Error(`user: ${user.status} ${user.text}`);
  const NIL = '00000000-0000-0000-0000-000000000000';
  const policy = { id: NIL, issuer_id: NIL, version: 0, trustee_type: 'user', trustee_id: user.body.id };
  const roles = await api.put(`/users/${user.body.id}/access_policies`, {
    items: [{ ...policy, role_id: 'company_admin', tenant_id: tenantId }],
  });
  if (roles.status !== 200) throw new Error(`roles: ${roles.status} ${roles.text}`);
  return { id: user.body.id as string, login };
}

/** Every call the simulator answered since its stats were reset. */
export function totalCalls(t: TestPipeline): number {
  return Object.values(t.sim.stats().byEndpoint)
    .flatMap((byStatus) => Object.values(byStatus))
    .reduce((a, b) => a + b, 0);
}
