import type { Logger } from '../logger.js';
import type { RedisConnection } from '../redis/connection.js';
import type { Lease, LeaseHolder } from '../redis/lease.js';

/**
 * One sweep at a time across every process of the install (docs/reconcile.md "Scheduled
 * sweeps"): a scheduled sweep and a `reconcile` run only while holding the sweep lease; one that
 * finds it taken does not sweep (a scheduled one is skipped, the next interval sweeps; a command
 * says who holds it). Each outcome is counted for `/metrics`.
 */
export type SweepPurpose = 'scheduled' | 'manual';

/** Who holds the lease, without its token. */
export type SweepHolder = Omit<LeaseHolder, 'token'>;
export type ExclusiveSweepOutcome<R> = { ran: true; report: R } | { ran: false; heldBy?: SweepHolder };

export interface ExclusiveSweepDeps {
  lease: Lease;
  redis: RedisConnection;
  /** The hash of sweeps by outcome (RedisKeys.metrics.sweeps). */
  countsKey: string;
  logger: Logger;
}

export async function sweepExclusively<R>(
  deps: ExclusiveSweepDeps,
  purpose: SweepPurpose,
  sweep: () => Promise<R>,
): Promise<ExclusiveSweepOutcome<R>> {
  try {
    const outcome = await deps.lease.run(purpose, sweep);
    if (outcome.ran) {
      await count(deps, 'ran');
      return { ran: true, report: outcome.value };
    }
    await count(deps, 'skipped');
    const heldBy = outcome.heldBy ? withoutToken(outcome.heldBy) : undefined;
    deps.logger.info({ component: 'reconcile', purpose, heldBy }, 'a sweep is already running: this one is skipped');
    return { ran: false, ...(heldBy ? { heldBy } : {}) };
  } catch (err) {
    await count(deps, 'failed');
    throw err;
  }
}

/** "a scheduled sweep on host:pid since 21:03:07 UTC". */
export function holderText(holder: SweepHolder | undefined): string {
  if (!holder) return 'another sweep (it has just ended, or is ending)';
  const since = new Date(holder.since).toISOString().slice(11, 19);
  const what = holder.purpose === 'scheduled' ? 'a scheduled sweep' : 'a `reconcile`';
  return `${what} on ${holder.owner} since ${since} UTC`;
}

/** A `reconcile` asked for while another sweep runs: nothing was read or changed. */
export class SweepRunningError extends Error {
  constructor(readonly heldBy: SweepHolder | undefined) {
    super(`${holderText(heldBy)} is running: one sweep runs at a time; try again once it has ended`);
    this.name = 'SweepRunningError';
  }
}

function withoutToken({ owner, purpose, since }: LeaseHolder): SweepHolder {
  return { owner, purpose, since };
}

async function count(deps: ExclusiveSweepDeps, outcome: 'ran' | 'skipped' | 'failed'): Promise<void> {
  await deps.redis.hincrby(deps.countsKey, outcome, 1).catch(() => undefined);
}
