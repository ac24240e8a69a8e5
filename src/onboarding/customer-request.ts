import { z } from 'zod';

/**
 * One customer to onboard: the fields of the CSV contract and the webhook body (DESIGN.md
 * "CSV columns"). Every producer validates with this one schema, so a row and a webhook
 * customer are judged by the same rules and name the same fields.
 */

const trimmed = z.string().trim();
/** Empty cells mean "not given", as in a CSV where a column is present but blank. */
const optionalText = <T extends z.ZodType = typeof trimmed>(schema?: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), ((schema ?? trimmed) as T).optional()).optional();

/** The login rules of the platform (ACRONIS-API.md §6.1): 3+ characters of a restricted set. */
const LOGIN = /^[A-Za-z0-9.@_\-+:!#$%^*={}'`/?]{3,}$/;

export const CUSTOMER_EDITIONS = ['pck_per_workload', 'pck_per_gigabyte'] as const;
export const ACTIVATIONS = ['email', 'password', 'none'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export const customerRequestSchema = z.strictObject({
  name: trimmed.min(1, 'is required').max(255, 'is longer than 255 characters'),
  email: trimmed.pipe(z.email({ error: 'is not an e-mail address' })),
  external_id: optionalText(trimmed.max(200, 'is longer than 200 characters')),
  login: optionalText(trimmed.regex(LOGIN, 'must be 3+ letters, digits or .@_-+:!#$%^*={}\'`/? (ACRONIS login rules)')),
  first_name: optionalText(),
  last_name: optionalText(),
  language: optionalText(trimmed.regex(/^[a-z]{2}([-_][A-Za-z]{2})?$/, 'must be a language code such as en, de or pt_BR')),
  country: optionalText(trimmed.max(100)),
  phone: optionalText(trimmed.max(50)),
  edition: optionalText(z.enum(CUSTOMER_EDITIONS, { error: `must be ${CUSTOMER_EDITIONS.join(' or ')}` })),
  activation: optionalText(z.enum(ACTIVATIONS, { error: `must be ${ACTIVATIONS.join(', ')}` })),
  /**
   * Extension: the admin's initial password for `password` activation. Sealed before it is
   * queued (it never sits in Redis in clear); a strong one is generated when absent.
   */
  password: optionalText(trimmed.min(8, 'must be at least 8 characters')),
});
export type CustomerRequest = z.infer<typeof customerRequestSchema>;

/**
 * The dedupe key of a customer: the sales system's id, or the name normalised (case,
 * accents and runs of spaces ignored), so "ACME  GmbH" and "acme gmbh" are one customer.
 * It is also the tenant's `customer_id`, the handle create-tenant finds it by.
 */
export function customerKeyOf(request: Pick<CustomerRequest, 'external_id' | 'name'>): string {
  if (request.external_id) return request.external_id;
  return request.name.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function loginOf(request: Pick<CustomerRequest, 'login' | 'email'>): string {
  return request.login ?? request.email;
}

export interface FieldProblem {
  field: string;
  reason: string;
}

/** Parses one customer; problems name the field and the reason, as a CSV line or webhook answer reports them. */
export function parseCustomerRequest(value: unknown): { ok: true; request: CustomerRequest } | { ok: false; problems: FieldProblem[] } {
  const parsed = customerRequestSchema.safeParse(value);
  if (parsed.success) return { ok: true, request: parsed.data };
  return {
    ok: false,
    problems: parsed.error.issues.map((issue) => ({
      field: issue.path.length > 0 ? issue.path.join('.') : '(customer)',
      reason: issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message,
    })),
  };
}
