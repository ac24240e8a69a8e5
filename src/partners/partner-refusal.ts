import { AcronisApiError, connectionNeverMade } from '../acronis/errors.js';
import type { Logger } from '../logger.js';
import type { Partner, PartnerSet } from './partner-set.js';

/**
 * A partner the data centre will not serve (docs/commands.md "A partner refused"): its API client
 * is refused (400/401 at /idp/token: a wrong or revoked secret) or its data centre does not answer.
 * With several partners this stops nothing but that partner's customers.
 */

/** The data centre refused the API client itself: no retry helps until the variables are fixed. */
export function credentialsRefused(err: unknown): err is AcronisApiError {
  return err instanceof AcronisApiError && err.path === '/idp/token' && (err.status === 400 || err.status === 401);
}

/** What is wrong with a partner's access, in words naming what to check; undefined for any other failure. */
export function partnerAccessProblem(partner: Partner, err: unknown): string | undefined {
  if (credentialsRefused(err)) {
    const { clientId, clientSecret } = partner.variables;
    const code = err.code !== undefined ? ` ${err.code}` : '';
    return (
      `${partner.dataCenterUrl} refused its API client (${err.status}${code}): check ${clientId} and ${clientSecret}, ` +
      'and that its base_url is the data centre the client was created in'
    );
  }
  const unreachable = connectionNeverMade(err);
  if (unreachable) return `${partner.dataCenterUrl} does not answer (${unreachable})`;
  return undefined;
}

/** A command that needs one partner's API, stopped because that partner is refused (exit 2). */
export class PartnerRefusedError extends Error {
  constructor(
    readonly partner: string,
    readonly problem: string,
  ) {
    super(`partner "${partner}": ${problem}`);
    this.name = 'PartnerRefusedError';
  }
}

/**
 * Tells the log once that a partner is refused, not at every step of its customers, and once
 * that it is served again. Per process: each `work` says it once.
 */
export class PartnerRefusals {
  private readonly refusedNow = new Set<string>();

  constructor(
    private readonly partners: PartnerSet,
    private readonly logger: Logger,
  ) {}

  /** No name: the default partner. */
  refused(partnerName: string | undefined, err: unknown): void {
    const partner = this.partners.get(partnerName);
    if (this.refusedNow.has(partner.name)) return;
    this.refusedNow.add(partner.name);
    const problem = partnerAccessProblem(partner, err) ?? (err as Error).message;
    this.logger.error(
      { partner: partner.name, problem },
      `partner "${partner.name}" refused: ${problem}; its customers' steps wait and are tried again, the other partners are served`,
    );
  }

  accepted(partnerName: string | undefined): void {
    if (this.refusedNow.size === 0) return;
    const { name } = this.partners.get(partnerName);
    if (!this.refusedNow.delete(name)) return;
    this.logger.info({ partner: name }, `partner "${name}" answers again: its customers go on`);
  }
}
