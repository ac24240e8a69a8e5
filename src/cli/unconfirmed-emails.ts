import type { CustomerRecord } from '../workers/onboarding-store.js';
import { tty } from './terminal-text.js';

/**
 * Customers done whose activation e-mail may not have gone out: the API's answer to the send was
 * lost, and the e-mail is sent at most once (docs/pipeline.md), so ops are told whom to check.
 */
type BatchEntry = { key: string; record: CustomerRecord | undefined };

export function unconfirmedEmails(customers: readonly BatchEntry[], batchId: string): BatchEntry[] {
  return customers.filter(
    (c) =>
      c.record?.batchId === batchId && c.record.state === 'done' && c.record.facts.activation === 'email-unconfirmed',
  );
}

/** Listed under a batch's summary; nothing when every e-mail's send was answered. */
export function unconfirmedEmailLines(unconfirmed: readonly BatchEntry[], max = 200): string[] {
  if (unconfirmed.length === 0) return [];
  const lines = [
    `activation e-mail unconfirmed (${unconfirmed.length}): the answer to the send was lost and it is not sent twice; ` +
      'where the admin got none, resend it from the management portal (user ids: acronis-onboard results)',
    ...unconfirmed.slice(0, max).map((c) => tty`  ${c.key}  ${c.record?.facts.login ?? ''}`),
  ];
  if (unconfirmed.length > max) lines.push(`  … and ${unconfirmed.length - max} more`);
  return lines;
}
