import type { CustomerRecord, OnboardingStore } from '../workers/onboarding-store.js';
import type { OnboardingQueue } from '../workers/queue.js';
import { needsHealing } from './heal.js';

/** One customer a sweep may look at: its record (none when lost) and whether it may be healed. */
export interface ScopedCustomer {
  key: string;
  record: CustomerRecord | undefined;
  heal: boolean;
  /** Where a lost record is rebuilt: the newest batch that lists it. */
  listedIn?: { batchId: string; position: number };
}

/** With several partners: whose tenants this sweep reads, and whether it is the default one (records naming none are its). */
export interface SweepPartner {
  name: string;
  isDefault: boolean;
}

/** Whether a customer is this partner's: its record's partner; a lost record may be anyone's (its tenant will say). */
export function ofPartner(partner: SweepPartner | undefined, record: CustomerRecord | undefined): boolean {
  if (!partner || !record) return true;
  return record.partner === undefined ? partner.isDefault : record.partner === partner.name;
}

export interface Scope {
  customers: Map<string, ScopedCustomer>;
  /** Customers asked for by name that no record or batch of the install knows (healed only if a tenant carries the id). */
  asked: string[] | undefined;
}

/**
 * The customers of the install: every record, and every customer a batch lists whose record is
 * gone; or only those asked for. A record is a healing candidate when it is lost, failed, or
 * queued/running with no job of its chain left to run.
 */
export async function loadScope(
  deps: { store: OnboardingStore; queueFor(partner: string | undefined): OnboardingQueue; partner?: SweepPartner },
  customerIds?: readonly string[],
): Promise<Scope> {
  const listed = await deps.store.batchListedCustomers();
  const keys = customerIds
    ? [...new Set(customerIds)]
    : [...new Set([...(await deps.store.allCustomerKeys()), ...listed.keys()])];
  const records = await deps.store.getCustomers(keys);
  const customers = new Map<string, ScopedCustomer>();
  for (const [i, key] of keys.entries()) {
    const record = records[i];
    if (!ofPartner(deps.partner, record)) continue;
    const place = listed.get(key);
    customers.set(key, {
      key,
      record,
      heal: await needsHealing(deps.queueFor(record?.partner), key, record),
      ...(place ? { listedIn: place } : {}),
    });
  }
  return { customers, asked: customerIds ? keys : undefined };
}
