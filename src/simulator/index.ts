import type { AddressInfo } from 'node:net';
import { dataCentreStartOptions, type DataCentreOptions, type SimulatorStartOptions } from './data-centres.js';
import type { SimulatorOptions } from './options.js';
import { SimulatorRuntime } from './runtime.js';
import { buildServer } from './server.js';
import { snapshotState, type SimulatorState } from './state.js';
import type { SimulatorStats } from './stats.js';
import type { SimulatorSeed } from './world.js';

export type { Fault, FaultKind, SimulatorOptions, SimulatorOptionsPatch } from './options.js';
export {
  DEFAULT_OPTIONS,
  FaultSchema,
  MAX_SEEDED_CUSTOMERS,
  MAX_STORAGES,
  SimulatorOptionsPatchSchema,
  SimulatorOptionsSchema,
} from './options.js';
export type { SimulatorOfferingItem, SimulatorState, SimulatorTenant, SimulatorUser } from './state.js';
export type { ResponseViolation, SimulatorStats } from './stats.js';
export type { PartnerSeed, SimulatorSeed } from './world.js';
export type { DataCentreOptions, SimulatorStartOptions } from './data-centres.js';
export { DataCentresError, MAX_DATA_CENTRES, dataCentreLabel } from './data-centres.js';

export interface RunningSimulator {
  /** Data-centre URL, e.g. http://127.0.0.1:43123; the API is at `${url}/api/2`. */
  url: string;
  /** The seeded world's ids and credentials. */
  seed: SimulatorSeed;
  /** Same effect as PUT /__sim/config (throws ZodError on a bad patch). */
  configure(patch: Partial<SimulatorOptions>): void;
  config(): SimulatorOptions;
  /** Same as GET /__sim/state. */
  state(): SimulatorState;
  /** Same as GET /__sim/stats. */
  stats(): SimulatorStats;
  resetStats(): void;
  /** Every access token issued so far answers 401 from now on. */
  revokeTokens(): void;
  close(): Promise<void>;
}

/** Starts the Acronis Account Management API v2 simulator (default 127.0.0.1, a free port). */
export async function startSimulator(opts: SimulatorStartOptions = {}): Promise<RunningSimulator> {
  const { port = 0, host = '127.0.0.1', partner, ...options } = opts;
  const runtime = new SimulatorRuntime(options, partner);
  const app = await buildServer(runtime);
  await app.listen({ port, host });
  const address = app.server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed = false;
  return {
    url: `http://${urlHost}:${address.port}`,
    seed: structuredClone(runtime.world.seed),
    configure: (patch) => void runtime.configure(patch),
    config: () => structuredClone(runtime.options),
    state: () => snapshotState(runtime.world),
    stats: () => runtime.stats.snapshot(),
    resetStats: () => runtime.stats.reset(),
    revokeTokens: () => runtime.revokeTokens(),
    close: async () => {
      if (closed) return;
      closed = true;
      runtime.releaseHanging();
      await app.close();
    },
  };
}

/**
 * Starts `count` simulated data centres (1..MAX_DATA_CENTRES), each its own simulator: its own
 * port, partner, API client, seed, ids, rate limit and `/__sim/config`. `shared` applies to every
 * one (ports follow on from its `port`), `perDc[i]` to data centre i + 1 over it. When one cannot
 * start, those already started are closed before the error is thrown.
 */
export async function startSimulators(
  count: number,
  shared: Omit<SimulatorStartOptions, 'partner'> = {},
  perDc: readonly DataCentreOptions[] = [],
): Promise<RunningSimulator[]> {
  const started: RunningSimulator[] = [];
  try {
    for (const options of dataCentreStartOptions(count, shared, perDc)) started.push(await startSimulator(options));
  } catch (err) {
    await closeSimulators(started);
    throw err;
  }
  return started;
}

export async function closeSimulators(sims: readonly RunningSimulator[]): Promise<void> {
  await Promise.all(sims.map((sim) => sim.close()));
}
