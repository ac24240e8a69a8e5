import { STEP_NAMES, type StepName } from '../chain.js';
import type { StepDefinition } from '../step.js';
import { activateUser } from './activate-user.js';
import { adoptReadBack } from './adopt-read-back.js';
import { adoptTenant } from './adopt-tenant.js';
import { assignRoles } from './assign-roles.js';
import { createAgentToken } from './create-agent-token.js';
import { createTenant } from './create-tenant.js';
import { createUser } from './create-user.js';
import { enableOfferingItems } from './enable-offering-items.js';
import { finish } from './finish.js';
import { setPricing } from './set-pricing.js';

/** Every step handler; `buildStepCatalogue` checks it against STEP_NAMES at start. */
export const STEP_HANDLERS = [
  createTenant,
  enableOfferingItems,
  setPricing,
  createUser,
  assignRoles,
  activateUser,
  createAgentToken,
  finish,
  adoptTenant,
  adoptReadBack,
] as unknown as StepDefinition[];

export class StepCatalogueError extends Error {
  constructor(readonly problems: string[]) {
    super(`the step catalogue is inconsistent: ${problems.join('; ')}`);
    this.name = 'StepCatalogueError';
  }
}

/** Step name → definition; throws at start when a step has no handler or more than one (immich does the same at boot). */
export function buildStepCatalogue(
  handlers: readonly StepDefinition[] = STEP_HANDLERS,
): Record<StepName, StepDefinition> {
  const problems: string[] = [];
  const byName = new Map<string, StepDefinition[]>();
  for (const handler of handlers) byName.set(handler.name, [...(byName.get(handler.name) ?? []), handler]);
  for (const name of STEP_NAMES) {
    const found = byName.get(name) ?? [];
    if (found.length === 0) problems.push(`step "${name}" has no handler`);
    if (found.length > 1) problems.push(`step "${name}" has ${found.length} handlers`);
  }
  for (const name of byName.keys()) {
    if (!(STEP_NAMES as readonly string[]).includes(name)) problems.push(`handler for unknown step "${name}"`);
  }
  if (problems.length > 0) throw new StepCatalogueError(problems);
  return Object.fromEntries(STEP_NAMES.map((name) => [name, (byName.get(name) as StepDefinition[])[0]])) as Record<
    StepName,
    StepDefinition
  >;
}
