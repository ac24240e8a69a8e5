import type { SimulatorOptions } from './options.js';
import type { PartnerSeed } from './world.js';

/** What starting one simulator takes: its options, where it listens, and who its partner is. */
export interface SimulatorStartOptions extends Partial<SimulatorOptions> {
  /** 0 (the default): any free port. */
  port?: number;
  host?: string;
  partner?: PartnerSeed;
}

/** What one data centre of several may set apart from the others (its rate limit, its faults…). */
export type DataCentreOptions = Omit<SimulatorStartOptions, 'port' | 'host'>;

/** Enough for a two- or three-region install and its tests; more only costs memory and ports. */
export const MAX_DATA_CENTRES = 4;

const HIGHEST_PORT = 65_535;

/** A request for simulated data centres that cannot be met; the message says what to change. */
export class DataCentresError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataCentresError';
  }
}

/** DC1, DC2…: the data centre's number as the partners file and the printed names use it. */
export function dataCentreLabel(dc: number): string {
  return `DC${dc}`;
}

/** The partner of data centre `dc` (1-based), named apart from the other data centres' partners. */
export function dataCentrePartner(dc: number): PartnerSeed {
  return { name: `Sim Partner ${dataCentreLabel(dc)}`, adminLogin: `sim-dc${dc}-partner-admin` };
}

/**
 * The start options of each of `count` data centres: `shared` for every one, `perDc[i]` over it
 * for data centre i + 1. Ports follow on from `shared.port` (0: each any free port). A shared seed
 * becomes one seed per data centre, so their ids, secrets and rolls never coincide.
 */
export function dataCentreStartOptions(
  count: number,
  shared: Omit<SimulatorStartOptions, 'partner'> = {},
  perDc: readonly DataCentreOptions[] = [],
): SimulatorStartOptions[] {
  checkCount(count, perDc.length);
  const firstPort = shared.port ?? 0;
  if (firstPort !== 0 && firstPort + count - 1 > HIGHEST_PORT) {
    throw new DataCentresError(
      `port ${firstPort} leaves no room for ${count} consecutive ports: start lower, or at 0 for any free ports`,
    );
  }
  return Array.from({ length: count }, (_, index) => {
    const dc = index + 1;
    return {
      ...shared,
      partner: dataCentrePartner(dc),
      ...(shared.seed ? { seed: `${shared.seed}:dc${dc}` } : {}),
      ...perDc[index],
      port: firstPort === 0 ? 0 : firstPort + index,
    };
  });
}

function checkCount(count: number, perDcCount: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_DATA_CENTRES) {
    throw new DataCentresError(`${count} data centres: give 1 to ${MAX_DATA_CENTRES}`);
  }
  if (perDcCount > count) {
    throw new DataCentresError(`options for ${perDcCount} data centres given, but ${count} to start`);
  }
}
