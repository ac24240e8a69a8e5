import { z, ZodError } from 'zod';
import { AcronisApiError, isRetryable } from '../acronis/errors.js';
import { SecretBoxError } from '../secrets/secret-box.js';
import { OfferingPlanError } from './offering-plan.js';

/**
 * Something the customer's data collides with on the platform — a tenant name or login
 * owned by someone else. Repeating the step cannot help; the message says what to change.
 */
export class StepConflictError extends Error {
  constructor(
    readonly customer: string,
    readonly field: string,
    readonly value: string,
    readonly owner: string,
    /** What to do about it; by default, change the field. */
    advice = `change the ${field} and resubmit the customer`,
    /** The holder is a tenant made elsewhere (no customer_id), which `adopt` can take over as this customer. */
    readonly adoptTenantId?: string,
  ) {
    super(`customer "${customer}": ${field} "${value}" is already used by ${owner}; ${advice}`);
    this.name = 'StepConflictError';
  }
}

/**
 * What a failed customer's record keeps of a conflict, so `retry` can refuse to repeat it and
 * say what to change without reading the message text back.
 */
export const needsChangeSchema = z.object({
  field: z.string(),
  value: z.string(),
  owner: z.string(),
  /** A tenant made elsewhere holds the name: adopting it is the other way out (docs/adopt.md). */
  adoptTenantId: z.string().optional(),
});
export type NeedsChange = z.infer<typeof needsChangeSchema>;

/** The change a failure asks of the customer's data, when it is a conflict; otherwise none. */
export function needsChangeOf(err: unknown): NeedsChange | undefined {
  if (!(err instanceof StepConflictError)) return undefined;
  return {
    field: err.field,
    value: err.value,
    owner: err.owner,
    ...(err.adoptTenantId ? { adoptTenantId: err.adoptTenantId } : {}),
  };
}

/** The request or profile cannot be carried out as given (e.g. an include entry nothing matches). */
export class StepInputError extends Error {
  constructor(
    readonly customer: string,
    readonly field: string,
    reason: string,
  ) {
    super(`customer "${customer}": ${field}: ${reason}`);
    this.name = 'StepInputError';
  }
}

/**
 * Whether a failed step attempt may succeed later. Acronis errors are judged by the one
 * policy in src/acronis/errors.ts; our own domain errors never are; anything else (a Redis
 * hiccup while checkpointing) gets the benefit of the doubt and is retried.
 */
export function isRetryableStepError(err: unknown): boolean {
  if (err instanceof AcronisApiError) return isRetryable(err);
  if (err instanceof StepConflictError || err instanceof StepInputError) return false;
  if (err instanceof OfferingPlanError || err instanceof ZodError || err instanceof RangeError) return false;
  // Another SECRETS_KEY, or an altered value: no later attempt opens it.
  if (err instanceof SecretBoxError) return false;
  return true;
}

/** A one-line reason for the dashboard and `results`: the API's own words when there are any. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
