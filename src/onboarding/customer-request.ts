import { z } from 'zod';
import { PARTNER_NAME } from '../partners/partner-set.js';
import { itemInInclude, type Profile } from './profile.js';

/**
 * One customer to onboard, as a CSV row or a webhook body gives it; every producer judges it with
 * this one schema, at least as strictly as the API would (docs/architecture.md "What a customer
 * request must be").
 */

const trimmed = z.string().trim();
/** Empty cells mean "not given", as in a CSV where a column is present but blank. */
const optionalText = <T extends z.ZodType = typeof trimmed>(schema?: T) =>
  z
    .preprocess(
      (v) => (typeof v === 'string' && v.trim() === '' ? undefined : v),
      ((schema ?? trimmed) as T).optional(),
    )
    .optional();

/** Tabs, line breaks and every other C0/C1 control character. */
const CONTROL = /\p{Cc}/u;
/** The bidi embeddings, overrides and isolates: they reorder how the text around them is shown. */
const BIDI_CONTROL = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;
const oneLine = (max: number) =>
  trimmed
    .max(max, `is longer than ${max} characters`)
    .refine((v) => !CONTROL.test(v), 'must be one line of text (no line breaks, tabs or other control characters)')
    .refine(
      (v) => !BIDI_CONTROL.test(v),
      'must not hold bidirectional control characters (U+202A–U+202E, U+2066–U+2069, …)',
    );

/** The login rules of the platform (docs/acronis-api.md §6.1): 3+ characters of a restricted set; 255 at most (the simulator). */
const LOGIN = /^[A-Za-z0-9.@_\-+:!#$%^*={}'`/?]{3,}$/;
export const MAX_LOGIN_LENGTH = 255;
export const MAX_NAME_LENGTH = 255;
export const MAX_EMAIL_LENGTH = 254;

/** Passwords the platform refuses as too simple whatever their length (the simulator's list). */
const COMMON_PASSWORDS = new Set([
  'password',
  'password1',
  'passw0rd',
  '12345678',
  '123456789',
  'qwertyui',
  'qwerty123',
  'iloveyou',
  'admin123',
  'welcome1',
]);
const PASSWORD_CLASSES = [/[a-z]/, /[A-Z]/, /\d/, /[^A-Za-z0-9]/];

export const CUSTOMER_EDITIONS = ['pck_per_workload', 'pck_per_gigabyte'] as const;
export const ACTIVATIONS = ['email', 'password', 'none'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

/** An offering item's name or usage_name, as a profile's quota keys are written. */
const ITEM_NAME = /^[a-z0-9_]{1,100}$/;
/** A CSV cell holds text: "12" is the number 12; anything else is judged (and refused) as it is. */
const wholeNumber = z.preprocess(
  (v) => (typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : v),
  z
    .number({ error: 'must be a whole number ≥ 0' })
    .int('must be a whole number ≥ 0')
    .min(0, 'must be a whole number ≥ 0')
    .max(1_000_000_000, 'must be at most 1,000,000,000'),
);

/** An offering item as a quota names it: its name or usage_name. */
export const offeringItemNameSchema = z
  .string()
  .trim()
  .regex(ITEM_NAME, 'must be an offering item name such as pw_base_workstations or workstations');

/**
 * Per-customer quotas (docs/profiles.md "Per-customer quotas"): offering item → the quantity
 * prepaid. Each becomes a hard quota of exactly that many (value n, overage 0: docs/acronis-api.md
 * §4.2), over the profile's quota for the item.
 */
export const customerQuotasSchema = z.record(offeringItemNameSchema, wholeNumber, {
  error: 'must be an object of offering item → whole number',
});
export type CustomerQuotas = z.infer<typeof customerQuotasSchema>;

export const customerRequestSchema = z.strictObject({
  name: oneLine(MAX_NAME_LENGTH).pipe(z.string().min(1, 'is required')),
  email: trimmed
    .max(MAX_EMAIL_LENGTH, `is longer than ${MAX_EMAIL_LENGTH} characters`)
    .pipe(z.email({ error: 'is not an e-mail address' })),
  external_id: optionalText(oneLine(200)),
  login: optionalText(
    trimmed
      .max(MAX_LOGIN_LENGTH, `is longer than ${MAX_LOGIN_LENGTH} characters`)
      .regex(LOGIN, "must be 3+ letters, digits or .@_-+:!#$%^*={}'`/? (ACRONIS login rules)"),
  ),
  first_name: optionalText(oneLine(255)),
  last_name: optionalText(oneLine(255)),
  language: optionalText(
    trimmed.regex(/^[a-z]{2}([-_][A-Za-z]{2})?$/, 'must be a language code such as en, de or pt_BR'),
  ),
  country: optionalText(oneLine(100)),
  phone: optionalText(oneLine(50)),
  edition: optionalText(z.enum(CUSTOMER_EDITIONS, { error: `must be ${CUSTOMER_EDITIONS.join(' or ')}` })),
  activation: optionalText(z.enum(ACTIVATIONS, { error: `must be ${ACTIVATIONS.join(', ')}` })),
  quotas: customerQuotasSchema.optional(),
  /**
   * Extension: the partner account the customer is onboarded under (docs/partners.md); absent:
   * the install's default partner. Producers check it against the partners served.
   */
  partner: optionalText(
    trimmed
      .toLowerCase()
      .regex(PARTNER_NAME, 'must be a partner name (a–z, digits and -, as the partners file names it)'),
  ),
  /**
   * Extension: the admin's initial password for `password` activation. Sealed before it is
   * queued (it never sits in Redis in clear); a strong one is generated when absent.
   */
  password: optionalText(
    trimmed
      .min(8, 'must be at least 8 characters')
      .refine((v) => !CONTROL.test(v) && !BIDI_CONTROL.test(v), 'must not hold control characters')
      .refine(
        (v) => PASSWORD_CLASSES.filter((re) => re.test(v)).length >= 2 && !COMMON_PASSWORDS.has(v.toLowerCase()),
        {
          error:
            'is too simple: use two kinds of characters (lower case, upper case, digits, symbols) and not a common password',
        },
      ),
  ),
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
export function parseCustomerRequest(
  value: unknown,
): { ok: true; request: CustomerRequest } | { ok: false; problems: FieldProblem[] } {
  const parsed = customerRequestSchema.safeParse(value);
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((issue) => ({
        field: issue.path.length > 0 ? issue.path.join('.') : '(customer)',
        reason: issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message,
      })),
    };
  }
  // Across fields, so not in the schema: `chain.ts` derives the queued request from it with `.omit()`,
  // which zod refuses on a refined object.
  const request = parsed.data;
  if (request.password && request.password.toLowerCase().includes(loginOf(request).toLowerCase())) {
    return { ok: false, problems: [{ field: 'password', reason: 'must not contain the login' }] };
  }
  return { ok: true, request };
}

/**
 * What a valid request may still ask that the profile it is queued with cannot give: an
 * edition the profile does not offer (enable-offering-items would look for items the profile
 * never checked against the partner's offer), or a quota for an item the profile does not
 * enable. A template profile copies the template's items, so it ignores the request's edition
 * and cannot take per-customer quotas.
 */
export function problemsWithProfile(
  request: Pick<CustomerRequest, 'edition' | 'quotas'>,
  profile: Pick<Profile, 'editions' | 'template_tenant_id' | 'offering_items'>,
): FieldProblem[] {
  const problems: FieldProblem[] = [];
  if (
    request.edition &&
    !profile.template_tenant_id &&
    !(profile.editions as readonly string[]).includes(request.edition)
  ) {
    const reason = `is not offered by the profile (its editions: ${profile.editions.join(', ')})`;
    problems.push({ field: 'edition', reason });
  }
  for (const item of Object.keys(request.quotas ?? {})) {
    if (profile.template_tenant_id) {
      const reason = 'cannot be set: the profile copies a template tenant (template_tenant_id), quotas and all';
      problems.push({ field: `quotas.${item}`, reason });
    } else if (!itemInInclude(profile, item)) {
      const include = profile.offering_items.include?.join(', ') ?? '';
      problems.push({ field: `quotas.${item}`, reason: `is not an item of the profile (its items: ${include})` });
    }
  }
  return problems;
}
