import {
  parseCustomerRequest,
  problemsWithProfile,
  type CustomerRequest,
  type FieldProblem,
} from '../onboarding/customer-request.js';
import type { Profile } from '../onboarding/profile.js';
import { callbackUrlProblem, localNameProblem, type CallbackPolicy } from './callback-target.js';
import { unknownPartnerProblem, type ProducerPartners } from './partner-check.js';

/**
 * The body of `POST /webhooks/customers` (docs/webhook.md "The request"): one customer object, or
 * `{ "customers": [ … ] }`. Either may carry `callback_url`, which is not a customer field:
 * it is taken out before the customer is judged by `parseCustomerRequest`, the one schema
 * the CSV import uses too.
 *
 * Problems name the path in the body as sent: `email` for a single customer,
 * `customers[3].email` in a list, `callback_url`, or `(body)` for the shape as a whole.
 */

export const MAX_CUSTOMERS_PER_REQUEST = 1000;
const MAX_CALLBACK_URL_LENGTH = 2048;

export interface WebhookBody {
  /** The shape the sender used, so problems and answers speak its language. */
  form: 'single' | 'list';
  customers: CustomerRequest[];
  callbackUrl?: string;
}

export type WebhookBodyParse = { ok: true; body: WebhookBody } | { ok: false; problems: FieldProblem[] };

/**
 * `profile`, when given, refuses what it cannot onboard (an edition it does not offer), as the
 * CSV import does. `callbacks` says where a callback may go; without it `callback_url` is refused.
 * `partners`, when given, refuses a customer naming a partner the install does not serve.
 */
export function parseWebhookBody(
  json: unknown,
  profile?: Pick<Profile, 'editions' | 'template_tenant_id' | 'offering_items'>,
  callbacks?: CallbackPolicy,
  partners?: ProducerPartners,
): WebhookBodyParse {
  const parse = (value: unknown) => parseCustomer(value, profile, partners);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    return invalid([{ field: '(body)', reason: 'must be a customer object or {"customers": [...]}' }]);
  }
  const record = json as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const callbackUrl = parseCallbackUrl(record.callback_url, callbacks, problems);

  if (!('customers' in record)) {
    const { callback_url: _callbackUrl, ...customer } = record;
    const parsed = parse(customer);
    if (!parsed.ok)
      problems.push(
        ...parsed.problems.map((p) => ({ field: p.field === '(customer)' ? '(body)' : p.field, reason: p.reason })),
      );
    if (problems.length > 0 || !parsed.ok) return invalid(problems);
    return { ok: true, body: { form: 'single', customers: [parsed.request], ...(callbackUrl ? { callbackUrl } : {}) } };
  }

  const { customers: list, callback_url: _callbackUrl, ...rest } = record;
  const unknown = Object.keys(rest);
  if (unknown.length > 0)
    problems.push({
      field: '(body)',
      reason: `unknown field(s) ${unknown.join(', ')} beside "customers" (only callback_url may be there)`,
    });
  if (!Array.isArray(list))
    return invalid([...problems, { field: 'customers', reason: 'must be a list of customer objects' }]);
  if (list.length === 0) return invalid([...problems, { field: 'customers', reason: 'is empty' }]);
  if (list.length > MAX_CUSTOMERS_PER_REQUEST) {
    return invalid([
      ...problems,
      {
        field: 'customers',
        reason: `holds ${list.length} customers; at most ${MAX_CUSTOMERS_PER_REQUEST} per request`,
      },
    ]);
  }
  const customers: CustomerRequest[] = [];
  list.forEach((item, i) => {
    const parsed = parse(item);
    if (parsed.ok) customers.push(parsed.request);
    else
      problems.push(
        ...parsed.problems.map((p) => ({
          field: p.field === '(customer)' ? `customers[${i}]` : `customers[${i}].${p.field}`,
          reason: p.reason,
        })),
      );
  });
  if (problems.length > 0) return invalid(problems);
  return { ok: true, body: { form: 'list', customers, ...(callbackUrl ? { callbackUrl } : {}) } };
}

/** A URL the callback policy allows, or absent; a bad one adds its problem. */
function parseCallbackUrl(
  value: unknown,
  policy: CallbackPolicy | undefined,
  problems: FieldProblem[],
): string | undefined {
  if (value === undefined || value === null) return undefined;
  const problem = (reason: string) => {
    problems.push({ field: 'callback_url', reason });
    return undefined;
  };
  if (!policy) return problem('callbacks are not enabled on this server (it has no CALLBACK_SECRET)');
  if (typeof value !== 'string') return problem('must be a string (an https URL)');
  if (value.length > MAX_CALLBACK_URL_LENGTH) return problem(`is longer than ${MAX_CALLBACK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return problem('is not a URL');
  }
  const refused = callbackUrlProblem(url, policy) ?? localNameProblem(url, policy);
  if (refused) return problem(refused);
  return url.toString();
}

function parseCustomer(
  value: unknown,
  profile: Pick<Profile, 'editions' | 'template_tenant_id' | 'offering_items'> | undefined,
  partners: ProducerPartners | undefined,
) {
  const parsed = parseCustomerRequest(value);
  if (!parsed.ok) return parsed;
  const unknown = partners ? unknownPartnerProblem(parsed.request, partners) : undefined;
  const problems = [...(unknown ? [unknown] : []), ...(profile ? problemsWithProfile(parsed.request, profile) : [])];
  return problems.length > 0 ? { ok: false as const, problems } : parsed;
}

/** A problem of customer `index` named as the sender wrote it: `email` alone, `customers[3].email` in a list. */
export function customerProblemField(form: WebhookBody['form'], index: number, field: string): string {
  return form === 'single' ? field : `customers[${index}].${field}`;
}

function invalid(problems: FieldProblem[]): WebhookBodyParse {
  return { ok: false, problems };
}
