import type { CustomerRecord, EnqueueOutcome } from './onboarding-store.js';

/**
 * A batch's customers counted per partner (docs/partners.md), for `status` on an install that
 * serves several: where each partner's share of the batch stands. A customer's partner is its
 * record's; a record naming none is the default partner's.
 */
export const PARTNER_COUNT_STATES = ['queued', 'running', 'done', 'failed', 'skipped', 'moved', 'unknown'] as const;
export type PartnerCountState = (typeof PARTNER_COUNT_STATES)[number];

export type PartnerCounts = { total: number } & Record<PartnerCountState, number>;

type BatchEntry = { key: string; outcome: EnqueueOutcome; record: CustomerRecord | undefined };

/** The customer's partner: its record's, else the default's. */
export function partnerOfRecord(record: CustomerRecord | undefined, defaultPartner: string): string {
  return record?.partner ?? defaultPartner;
}

/**
 * Each partner with customers in the batch, in `partnerNames` order (a partner the install no
 * longer serves last): how many, and where each stands. Submitted while onboarded or queued
 * elsewhere is `skipped`; taken over by a later batch is `moved`; no record is `unknown`.
 */
export function countByPartner(
  customers: readonly BatchEntry[],
  batchId: string,
  partners: { names: readonly string[]; defaultName: string },
): Map<string, PartnerCounts> {
  const counts = new Map<string, PartnerCounts>();
  for (const customer of customers) {
    const partner = partnerOfRecord(customer.record, partners.defaultName);
    const tally = counts.get(partner) ?? emptyCounts();
    tally.total++;
    tally[stateIn(customer, batchId)]++;
    counts.set(partner, tally);
  }
  const rank = (name: string) => (partners.names.includes(name) ? partners.names.indexOf(name) : partners.names.length);
  return new Map([...counts].sort(([a], [b]) => rank(a) - rank(b)));
}

function stateIn({ outcome, record }: BatchEntry, batchId: string): PartnerCountState {
  if (outcome === 'already-onboarded' || outcome === 'already-queued') return 'skipped';
  if (!record) return 'unknown';
  return record.batchId === batchId ? record.state : 'moved';
}

function emptyCounts(): PartnerCounts {
  return { total: 0, queued: 0, running: 0, done: 0, failed: 0, skipped: 0, moved: 0, unknown: 0 };
}
