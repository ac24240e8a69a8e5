import type { AddressInfo } from 'node:net';
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
export type { SimulatorSeed } from './world.js';

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
export async function startSimulator(
  opts: Partial<SimulatorOptions> & { port?: number; host?: string } = {},
): Promise<RunningSimulator> {
  const { port = 0, host = '127.0.0.1', ...options } = opts;
  const runtime = new SimulatorRuntime(options);
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
