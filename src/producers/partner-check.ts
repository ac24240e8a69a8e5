import { customerKeyOf, type CustomerRequest, type FieldProblem } from '../onboarding/customer-request.js';
import { UnknownPartnerError } from '../partners/partner-set.js';
import type { OnboardingStore } from '../workers/onboarding-store.js';
import type { Producer } from './producer.js';

/**
 * What every producer checks of a customer's `partner` (docs/partners.md) before it is queued, so
 * that a bad one is refused as that customer's problem (a CSV line, a webhook field, a source
 * event) and never reaches `enqueueCustomers`, which would refuse the whole call: the partner must
 * be one the install serves, and a customer already recorded stays with the partner it has.
 */
export interface ProducerPartners {
  /** Every partner a customer may name. */
  names: readonly string[];
  /** The one a customer naming none gets. */
  defaultName: string;
}

/** The partners, and the records that say which one a known customer has: what the webhook and sources check with. */
export interface PartnerCheck extends ProducerPartners {
  store: Pick<OnboardingStore, 'getCustomers'>;
}

export function partnerCheckOf(producer: Pick<Producer, 'partnerNames' | 'defaultPartner' | 'store'>): PartnerCheck {
  return { names: producer.partnerNames, defaultName: producer.defaultPartner, store: producer.store };
}

/** The partner a request goes to: the one it names (lower case), else the default. */
export function partnerOf(request: Pick<CustomerRequest, 'partner'>, partners: ProducerPartners): string {
  return request.partner?.trim().toLowerCase() || partners.defaultName;
}

/** The `partner` field's problem when it names a partner the install does not serve. */
export function unknownPartnerProblem(
  request: Pick<CustomerRequest, 'partner'>,
  partners: ProducerPartners,
): FieldProblem | undefined {
  const name = request.partner;
  if (name === undefined || partners.names.includes(name.trim().toLowerCase())) return undefined;
  return { field: 'partner', reason: new UnknownPartnerError(name, partners.names).message };
}

/** Why a customer recorded under `recorded` cannot be asked for under `asked`. */
export function movedPartnerReason(key: string, recorded: string, asked: string): string {
  return (
    `customer "${key}" is recorded under partner "${recorded}", not "${asked}": ` +
    'moving a customer between partners is not supported'
  );
}

/**
 * For each request (in order), the `partner` problem of a customer already recorded under another
 * partner, or undefined. One read of the records; with a single partner nothing can differ, so
 * nothing is read.
 */
export async function partnerConflicts(
  store: Pick<OnboardingStore, 'getCustomers'>,
  partners: ProducerPartners,
  requests: readonly Pick<CustomerRequest, 'partner' | 'external_id' | 'name'>[],
): Promise<(FieldProblem | undefined)[]> {
  if (partners.names.length < 2 || requests.length === 0) return requests.map(() => undefined);
  const keys = requests.map(customerKeyOf);
  const records = await store.getCustomers(keys);
  return requests.map((request, i) => {
    const record = records[i];
    if (!record) return undefined;
    const recorded = record.partner ?? partners.defaultName;
    const asked = partnerOf(request, partners);
    if (recorded === asked) return undefined;
    return { field: 'partner', reason: movedPartnerReason(keys[i] as string, recorded, asked) };
  });
}
