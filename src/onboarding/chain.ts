import { z } from 'zod';
import { customerQuotasSchema, customerRequestSchema } from './customer-request.js';
import { profileSchema, type Profile } from './profile.js';

/**
 * The onboarding of one customer as a chain of step jobs (docs/architecture.md "The step
 * chain and exactly once"). Each job carries the whole chain data: the request, the profile it started
 * with, and the facts earlier steps established, so a later step (or a retry days later)
 * needs nothing but its own job.
 */

export const STEP_NAMES = [
  'create-tenant',
  'enable-offering-items',
  'set-pricing',
  'create-user',
  'assign-roles',
  'activate-user',
  'create-agent-token',
  'finish',
  'adopt-tenant',
  'adopt-read-back',
] as const;
export type StepName = (typeof STEP_NAMES)[number];
export const stepNameSchema = z.enum(STEP_NAMES);

/**
 * The chain of an adoption (docs/adopt.md): a tenant made elsewhere is stamped with the customer's
 * key, then read back and recorded as onboarded. It runs on the same machinery as an onboarding.
 */
export const ADOPT_STEPS = ['adopt-tenant', 'adopt-read-back'] as const satisfies readonly StepName[];
const ONBOARDING_STEPS = STEP_NAMES.filter((step) => !(ADOPT_STEPS as readonly string[]).includes(step));

/** The creates a step records an intent for before sending them (docs/architecture.md "Write-ahead intents"). */
export const INTENTS = ['tenant', 'user', 'activation', 'agent-token'] as const;
export type Intent = (typeof INTENTS)[number];

/** What steps learn and later steps need. Secrets appear only sealed (SECRETS_KEY, AES-256-GCM). */
export const chainFactsSchema = z.object({
  tenantId: z.string().optional(),
  /** Whether this chain made the tenant (also when an attempt's answer was lost), or found one made before it. */
  tenantCreated: z.boolean().optional(),
  /** The tenant was made elsewhere and adopted (docs/adopt.md): nothing in it is ours but the stamp. */
  adopted: z.boolean().optional(),
  edition: z.string().nullable().optional(),
  offeringItemsEnabled: z.number().int().optional(),
  /**
   * The customer's own quotas (hard quotas by usage_name) as last applied: by its onboarding, then
   * by each change, which keeps them unless it names others (docs/lifecycle.md "Per-customer
   * quotas"). Records made before it existed have none: their changes set the profile's.
   */
  ownQuotas: customerQuotasSchema.optional(),
  pricingMode: z.string().optional(),
  userId: z.string().optional(),
  /** As tenantCreated: false for a user made before this chain, who may be activated already. */
  userCreated: z.boolean().optional(),
  login: z.string().optional(),
  personalTenantId: z.string().nullable().optional(),
  roles: z.array(z.string()).optional(),
  activation: z
    .enum(['email-sent', 'email-unconfirmed', 'password-set', 'already-activated', 'not-requested'])
    .optional(),
  passwordSealed: z.string().optional(),
  /**
   * Write-ahead intents: when a step was first about to send each create (ISO time), recorded
   * in the job before the request, so a re-run knows the object may exist and looks it up first.
   */
  intents: z.partialRecord(z.enum(INTENTS), z.iso.datetime()).optional(),
  tokenId: z.number().int().optional(),
  tokenSealed: z.string().optional(),
  tokenExpiresAt: z.string().optional(),
});
export type ChainFacts = z.infer<typeof chainFactsSchema>;

/** The request as queued: its password, if the caller gave one, sealed. */
export const queuedRequestSchema = customerRequestSchema.omit({ password: true }).extend({
  password_sealed: z.string().optional(),
});
export type QueuedRequest = z.infer<typeof queuedRequestSchema>;

export const chainDataSchema = z.object({
  batchId: z.string().min(1),
  customerKey: z.string().min(1),
  /** One id per chain: a resubmission after a failure starts a new chain with a new id. */
  runId: z.string().min(1),
  partnerTenantId: z.string().min(1),
  request: queuedRequestSchema,
  profile: profileSchema,
  /** The steps of this chain, in order (set-pricing only when the profile asks). */
  steps: z.array(stepNameSchema).min(1),
  facts: chainFactsSchema,
  /**
   * The customer's place in its batch (the file's order): its first step records it there when
   * it starts before the producer's claim. Absent from jobs queued before it was carried.
   */
  position: z.number().int().nonnegative().optional(),
  /** An adoption's tenant, its version as the plan read it, and whether another stamp may be replaced. */
  adopt: z.object({ tenantId: z.string().min(1), version: z.number().int().optional(), force: z.boolean() }).optional(),
});
export type ChainData = z.infer<typeof chainDataSchema>;

/** Chain data whose facts must hold `keys` (what a step needs from earlier ones). */
export function chainDataWith<K extends keyof ChainFacts>(...keys: K[]) {
  const required = Object.fromEntries(
    keys.map((k) => [k, (chainFactsSchema.shape[k] as z.ZodOptional<z.ZodType>).unwrap()]),
  ) as { [P in K]: z.ZodType<NonNullable<ChainFacts[P]>> };
  return chainDataSchema.extend({ facts: chainFactsSchema.extend(required) });
}

export function plannedSteps(profile: Profile): StepName[] {
  // Production pricing cannot be undone (docs/acronis-api.md §5): the step exists only when asked for.
  return ONBOARDING_STEPS.filter((step) => step !== 'set-pricing' || profile.pricing_mode === 'production');
}

export function nextStep(steps: readonly StepName[], current: StepName): StepName | undefined {
  const index = steps.indexOf(current);
  return index < 0 ? undefined : steps[index + 1];
}
