import { z } from 'zod';
import { customerQuotasSchema, offeringItemNameSchema } from '../onboarding/customer-request.js';
import { profileSchema } from '../onboarding/profile.js';

/**
 * What happens to a customer after day one (docs/lifecycle.md): each action is a chain of step
 * jobs in the onboarding queue (one API budget, one token, the same retries and lock checks),
 * run one at a time per customer.
 */
export const ACTION_NAMES = ['suspend', 'resume', 'offboard', 'change', 'contact'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];
export const actionNameSchema = z.enum(ACTION_NAMES);

export const ACTION_STEP_NAMES = [
  'set-enabled',
  'offboard-disable',
  'offboard-delete',
  'change-edition',
  'change-offering-items',
  'change-pricing',
  'change-roles',
  'change-mfa',
  'change-contact',
  'change-user-contact',
] as const;
export type ActionStepName = (typeof ACTION_STEP_NAMES)[number];
export const actionStepNameSchema = z.enum(ACTION_STEP_NAMES);

export function isActionStep(name: string): name is ActionStepName {
  return (ACTION_STEP_NAMES as readonly string[]).includes(name);
}

/** Who asked: a person at the CLI or dashboard, a batch (CSV), or a source system's event. */
export const REQUESTERS = ['operator', 'batch', 'source'] as const;
export const requesterSchema = z.object({
  kind: z.enum(REQUESTERS),
  /** In words: "operator (CLI)", "CSV customers.csv line 4", "hubspot deal 1234 lost". */
  label: z.string().max(300),
});
export type Requester = z.infer<typeof requesterSchema>;

/** The tenant contact and the admin user's, as a CSV row or source event gives them. */
export const contactChangeSchema = z.object({
  email: z.string().optional(),
  first_name: z.string().optional(),
  last_name: z.string().optional(),
  phone: z.string().optional(),
});
export type ContactChange = z.infer<typeof contactChangeSchema>;

/** What an action needs beyond the customer. */
export const actionParamsSchema = z.object({
  /** offboard: how long between the disable and the delete. */
  graceMs: z.number().int().nonnegative().optional(),
  /** change: the profile to apply. */
  profile: profileSchema.optional(),
  /** change: the edition asked for (else the profile's). */
  edition: z.string().optional(),
  /** change: the customer's own quotas over the profile's, as the onboarding's (docs/profiles.md "Per-customer quotas"). */
  quotas: customerQuotasSchema.optional(),
  /** change: items whose own quota goes, the profile's applying again (`--quota item=profile`). */
  resetQuotas: z.array(offeringItemNameSchema).max(100).optional(),
  /** change: send the profile's roles even when they are those acronis-onboard set last (reconcile --fix read them changed by hand). */
  reapplyRoles: z.boolean().optional(),
  /** contact: the new contact. */
  contact: contactChangeSchema.optional(),
});
export type ActionParams = z.infer<typeof actionParamsSchema>;

/** What an action's steps learn and report. */
export const actionFactsSchema = z.object({
  tenantId: z.string().optional(),
  /** The tenant's `enabled` before the action, and whether the action changed it. */
  wasEnabled: z.boolean().optional(),
  changed: z.boolean().optional(),
  deleteAt: z.iso.datetime().optional(),
  editionFrom: z.string().nullable().optional(),
  editionTo: z.string().optional(),
  itemsChanged: z.number().int().optional(),
  pricingMode: z.string().optional(),
  roles: z.array(z.string()).optional(),
  mfa: z.boolean().optional(),
  /**
   * The admin user's version when its contact PUT left: an activated user's new e-mail waits for
   * a confirmation link and reads unchanged, so a re-run that finds the version past this one
   * knows the PUT landed and sends no second link.
   */
  userContactSentAt: z.number().int().optional(),
  /** What each step did, in words, for the outcome. */
  notes: z.array(z.string()).optional(),
});
export type ActionFacts = z.infer<typeof actionFactsSchema>;

export const actionJobSchema = z.object({
  actionId: z.string().min(1),
  batchId: z.string().min(1),
  customerKey: z.string().min(1),
  customerName: z.string(),
  requester: requesterSchema,
  action: actionNameSchema,
  partnerTenantId: z.string().min(1),
  /** The customer's partner (docs/partners.md); absent: the install's default one. */
  partner: z.string().optional(),
  steps: z.array(actionStepNameSchema).min(1),
  params: actionParamsSchema,
  facts: actionFactsSchema,
});
export type ActionJob = z.infer<typeof actionJobSchema>;

/** The steps of each action, in order. */
export function actionSteps(action: ActionName, params: ActionParams): ActionStepName[] {
  switch (action) {
    case 'suspend':
    case 'resume':
      return ['set-enabled'];
    case 'offboard':
      return ['offboard-disable', 'offboard-delete'];
    case 'contact':
      return ['change-contact', 'change-user-contact'];
    case 'change': {
      // The edition switch is part of change-offering-items (one read of the items for both);
      // `change-edition` stays a step name for chains queued before.
      // Pricing is only ever switched to production (one-way): a profile that does not ask for it
      // has nothing to do there, known from the profile alone, so its chain has no such step.
      const steps: ActionStepName[] = ['change-offering-items'];
      if (params.profile?.pricing_mode === 'production') steps.push('change-pricing');
      steps.push('change-roles');
      if (params.profile?.mfa !== undefined) steps.push('change-mfa');
      return steps;
    }
  }
}

/** `a-<action id>.<step>`: one job per step of one action, so adding a step twice is a no-op. */
export function actionJobId(actionId: string, step: ActionStepName): string {
  return `a-${actionId}.${step}`;
}

/** An action's life: waiting its turn, running, then one of the ends (or pending a deletion). */
export const ACTION_STATES = [
  'queued',
  'waiting',
  'running',
  'pending-deletion',
  'done',
  'failed',
  'cancelled',
  'deleted',
] as const;
export type ActionState = (typeof ACTION_STATES)[number];
export const FINAL_ACTION_STATES: readonly ActionState[] = ['done', 'failed', 'cancelled', 'deleted'];
