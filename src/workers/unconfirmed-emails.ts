import type { CustomerRecord } from './onboarding-store.js';

/**
 * Customers done whose activation e-mail may not have gone out: the API's answer to the send was
 * lost, and the e-mail is sent at most once (docs/pipeline.md). `status`, `import --wait` and the
 * dashboard's batch page name them in the same words, so ops know whom to check.
 */
export const EMAIL_UNCONFIRMED_HEADING = 'activation e-mail unconfirmed';
export const EMAIL_UNCONFIRMED_ADVICE =
  'the answer to the send was lost and it is not sent twice; where the admin got none, `acronis-onboard resend-activation` with the batch id or the customer key sends it again';
export const EMAIL_UNCONFIRMED = `${EMAIL_UNCONFIRMED_HEADING}: ${EMAIL_UNCONFIRMED_ADVICE}`;

export function isEmailUnconfirmed(record: CustomerRecord | undefined, batchId: string): boolean {
  return record?.batchId === batchId && record.state === 'done' && record.facts.activation === 'email-unconfirmed';
}
