import { SourceApiError, type SourceRecord, type WriteBack } from './kind.js';

/**
 * What the PSA and CRM kinds write back share: the state as a person reads it in the vendor's
 * screens, and the company a result goes to.
 */

/** `onboarded`, or `failed: <reason>`; 250 characters at most, under every vendor's text field limit. */
export function stateText(result: WriteBack): string {
  return result.state === 'done' ? 'onboarded' : `failed: ${result.reason ?? 'see acronis-onboard'}`.slice(0, 250);
}

/**
 * The numeric id of the record a result is written back to (a company, an organization); any other
 * target is a mistake no retry mends. `vendor` with its article: `a ConnectWise`, `an Autotask`.
 */
export function writeBackIdOf(
  target: NonNullable<SourceRecord['writeBackTarget']>,
  wanted: { objectType: string; source: string; vendor: string },
): number {
  const id = Number(target.objectId);
  if (target.objectType !== wanted.objectType || !Number.isInteger(id)) {
    const reason = `cannot write back to ${wanted.vendor} ${target.objectType}`;
    throw new SourceApiError(wanted.source, 'write-back', undefined, false, reason);
  }
  return id;
}
