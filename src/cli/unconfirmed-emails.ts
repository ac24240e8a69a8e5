import type { CustomerRecord } from '../workers/onboarding-store.js';
import {
  EMAIL_UNCONFIRMED_ADVICE,
  EMAIL_UNCONFIRMED_HEADING,
  isEmailUnconfirmed,
} from '../workers/unconfirmed-emails.js';
import { tty } from './terminal-text.js';

type BatchEntry = { key: string; record: CustomerRecord | undefined };

/** The batch's customers whose activation e-mail is unconfirmed (src/workers/unconfirmed-emails.ts). */
export function unconfirmedEmails(customers: readonly BatchEntry[], batchId: string): BatchEntry[] {
  return customers.filter((c) => isEmailUnconfirmed(c.record, batchId));
}

/**
 * Listed under a batch's summary; nothing when every e-mail's send was answered. `partnerOf`:
 * an install with several partners names each customer's (docs/partners.md).
 */
export function unconfirmedEmailLines(
  unconfirmed: readonly BatchEntry[],
  max = 200,
  partnerOf?: (entry: BatchEntry) => string,
): string[] {
  if (unconfirmed.length === 0) return [];
  const lines = [
    `${EMAIL_UNCONFIRMED_HEADING} (${unconfirmed.length}): ${EMAIL_UNCONFIRMED_ADVICE}`,
    ...unconfirmed.slice(0, max).map((c) => {
      const partner = partnerOf ? tty` (${partnerOf(c)})` : '';
      return tty`  ${c.key}` + partner + tty`  ${c.record?.facts.login ?? ''}`;
    }),
  ];
  if (unconfirmed.length > max) lines.push(`  … and ${unconfirmed.length - max} more`);
  return lines;
}
