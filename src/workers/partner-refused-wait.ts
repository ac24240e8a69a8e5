import { DelayedError, Worker, type Job } from 'bullmq';
import type { Logger } from '../logger.js';

/**
 * A step whose partner's API client is refused (docs/commands.md "A partner refused") waits and
 * is tried again, spending no attempt: the customer is not at fault, and a corrected secret (a
 * restart of `work` with the partner's variables fixed) lets it go on where it stopped. The wait
 * grows with the job's starts, so a partner refused for hours costs a token request per customer
 * every few minutes, not every second; BullMQ's started-attempts cap (200 starts: more than a day)
 * ends it at last, a failure `retry` resumes once the partner is put right.
 */
export interface PartnerRefusalsView {
  /** Says once per partner (per process) that it is refused; no name: the default partner. */
  refused(partnerName: string | undefined, err: unknown): void;
  /** Says once that a partner refused earlier answers again. */
  accepted(partnerName: string | undefined): void;
}

export const PARTNER_WAIT_FIRST_MS = 15_000;
export const PARTNER_WAIT_MAX_MS = 600_000;

export function partnerWaitMs(startsSoFar: number): number {
  return Math.min(PARTNER_WAIT_FIRST_MS * 2 ** Math.min(Math.max(startsSoFar - 1, 0), 10), PARTNER_WAIT_MAX_MS);
}

export async function waitForPartner(
  refusals: PartnerRefusalsView,
  partnerName: string | undefined,
  job: Job,
  token: string | undefined,
  err: unknown,
  logger: Logger,
): Promise<Error> {
  refusals.refused(partnerName, err);
  const waitMs = partnerWaitMs(job.attemptsStarted);
  logger.debug({ waitMs }, 'partner refused: this step waits');
  await job.log(`its partner's API client was refused: this step is tried again in ${waitMs} ms`);
  // Without the lock's token (a run outside a worker) the job can only go back to the queue.
  if (token === undefined) return Worker.RateLimitError();
  await job.moveToDelayed(Date.now() + waitMs, token);
  return new DelayedError();
}
