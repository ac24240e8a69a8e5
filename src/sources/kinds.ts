import type { SourceKind } from './kind.js';
import { autotaskKind } from './autotask/kind.js';
import { connectwiseKind } from './connectwise/kind.js';
import { genericKind } from './generic/index.js';
import { hubspotKind } from './hubspot/kind.js';
import { pipedriveKind } from './pipedrive/kind.js';
import { salesforceKind } from './salesforce/kind.js';

/**
 * Every kind of source a source file may name (`"kind"`), one line each. A vendor's kind lives
 * in its own folder (`src/sources/<kind>/`) and is added here as `<kind>: entry(<kind>Kind),`.
 */

/** A kind with its settings type forgotten: the intake hands each kind only settings its own schema parsed. */
function entry<Settings>(kind: SourceKind<Settings>): SourceKind<unknown> {
  return kind as unknown as SourceKind<unknown>;
}

export const SOURCE_KINDS = {
  generic: entry(genericKind),
  connectwise: entry(connectwiseKind),
  hubspot: entry(hubspotKind),
  salesforce: entry(salesforceKind),
  autotask: entry(autotaskKind),
  pipedrive: entry(pipedriveKind),
} as const;

export type KindName = keyof typeof SOURCE_KINDS;
