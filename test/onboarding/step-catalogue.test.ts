import { describe, expect, it } from 'vitest';
import { ADOPT_STEPS, STEP_NAMES, plannedSteps } from '../../src/onboarding/chain.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { buildStepCatalogue, STEP_HANDLERS, StepCatalogueError } from '../../src/onboarding/steps/index.js';

describe('the step catalogue', () => {
  it('has exactly one handler for every step', () => {
    const catalogue = buildStepCatalogue();
    expect(Object.keys(catalogue)).toEqual([...STEP_NAMES]);
    for (const name of STEP_NAMES) expect(catalogue[name].name).toBe(name);
  });

  it('refuses to start when a step has no handler or two', () => {
    const withoutFinish = STEP_HANDLERS.filter((h) => h.name !== 'finish');
    expect(() => buildStepCatalogue(withoutFinish)).toThrow(StepCatalogueError);
    expect(() => buildStepCatalogue(withoutFinish)).toThrow('step "finish" has no handler');
    const doubled = [...STEP_HANDLERS, STEP_HANDLERS[0]!];
    expect(() => buildStepCatalogue(doubled)).toThrow('step "create-tenant" has 2 handlers');
  });

  it('plans set-pricing only when the profile asks for production', () => {
    expect(plannedSteps(STANDARD_PROFILE)).not.toContain('set-pricing');
    const onboarding = STEP_NAMES.filter((s) => !(ADOPT_STEPS as readonly string[]).includes(s));
    expect(plannedSteps({ ...STANDARD_PROFILE, pricing_mode: 'production' })).toEqual(onboarding);
  });

  it("never plans an adoption's steps for an onboarding (docs/adopt.md)", () => {
    expect(plannedSteps({ ...STANDARD_PROFILE, pricing_mode: 'production' })).not.toContain('adopt-tenant');
    expect(plannedSteps(STANDARD_PROFILE)).not.toContain('adopt-read-back');
  });
});
