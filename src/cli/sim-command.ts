import { InvalidArgumentError, type Command } from 'commander';
import type { RunningSimulator, SimulatorOptions } from '../simulator/index.js';
import {
  FaultSchema,
  MAX_SEEDED_CUSTOMERS,
  MAX_STORAGES,
  RateLimitChangeSchema,
  type Fault,
  type RateLimitChange,
} from '../simulator/options.js';
import { MAX_DATA_CENTRES } from '../simulator/data-centres.js';
import { listening } from './listen-settings.js';
import { integer, port } from './option-values.js';
import { simPartnersEnvLines, writeSimPartnersFile } from './sim-partners-file.js';
import { printSimulators, type WrittenPartnersFile } from './sim-printout.js';
import { handleStopSignals, untilStopSignal } from './stop-signal.js';
import { tty } from './terminal-text.js';

/**
 * Nothing to drain: the simulator's close cuts the (fake) answers still in flight, those held by
 * --latency included. The stop deadline (SHUTDOWN_MARGIN_MS past this) only cuts a close that hangs.
 */
const SIM_DRAIN_MS = 0;

/** `--rate-limit N` or `--rate-limit N,N,…` (one per data centre); `none` is no limit. */
function rateLimits(value: string): (number | null)[] {
  return value.split(',').map((item) => {
    const text = item.trim();
    if (text === 'none') return null;
    const number = Number(text);
    if (text === '' || !Number.isFinite(number) || number <= 0) {
      throw new InvalidArgumentError(
        `"${value}" is not N, or N,N,… one per data centre, with each N a number above 0 or none`,
      );
    }
    return number;
  });
}

/** `--fault KIND[:PROBABILITY]`, repeatable: `--fault 5xx:0.1 --fault commit-then-fail:0.02`. */
function collectFault(value: string, previous: Fault[]): Fault[] {
  const [kind, probability] = value.split(':');
  const parsed = FaultSchema.safeParse({
    kind,
    ...(probability !== undefined ? { probability: Number(probability) } : {}),
  });
  if (!parsed.success) {
    throw new InvalidArgumentError(
      `"${value}" is not KIND[:PROBABILITY] with KIND one of 5xx, 429, hang, reset, commit-then-fail and PROBABILITY in 0..1`,
    );
  }
  return [...previous, parsed.data];
}

/** `--rate-limit-at SECONDS=N`, repeatable: from SECONDS after start the limit is N (`none`: no limit). */
function collectLimitChange(value: string, previous: RateLimitChange[]): RateLimitChange[] {
  const [seconds, limit] = value.split('=');
  const parsed = RateLimitChangeSchema.safeParse({
    afterMs: Math.round(Number(seconds) * 1000),
    rateLimit: limit === 'none' ? null : Number(limit),
  });
  if (!parsed.success || seconds === '' || limit === undefined || limit === '') {
    throw new InvalidArgumentError(`"${value}" is not SECONDS=N with SECONDS ≥ 0 and N a number above 0 or none`);
  }
  return [...previous, parsed.data];
}

interface SimCommandOptions {
  port: number;
  host: string;
  latency?: number;
  jitter?: number;
  rateLimit?: (number | null)[];
  rateLimitAt: RateLimitChange[];
  retryAfter: boolean;
  tokenTtl?: number;
  fault: Fault[];
  validateResponses?: boolean;
  seed?: string;
  storages?: number;
  customers?: number;
  datacenters: number;
  partnersFile?: string;
}

/**
 * `acronis-onboard sim`: the Acronis API simulator in the foreground. It prints its fake
 * credentials on purpose — that is what a developer needs to point the service at it.
 */
export function registerSimCommand(program: Command): void {
  program
    .command('sim')
    .description('run the Acronis Account Management API v2 simulator and print its credentials')
    .option('--port <port>', 'port to listen on (0 = any free port)', port, 4010)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--latency <ms>', 'base latency of every /api/2 answer', integer('--latency', 0))
    .option('--jitter <ms>', 'random extra latency, 0..ms', integer('--jitter', 0))
    .option(
      '--rate-limit <n[,n…]>',
      'requests per second over all callers; above it 429 + Retry-After (a comma list: one per data centre; one value: each)',
      rateLimits,
    )
    .option(
      '--rate-limit-at <s=n>',
      'from s seconds after start the rate limit is n requests per second, or none (repeatable)',
      collectLimitChange,
      [],
    )
    .option('--no-retry-after', 'answer 429s (over the rate limit, and injected ones) without Retry-After')
    .option('--token-ttl <s>', 'access token lifetime in seconds (default 7200)', integer('--token-ttl', 1))
    .option(
      '--fault <kind:prob>',
      'inject a fault: 5xx, 429, hang, reset or commit-then-fail, with a probability (repeatable)',
      collectFault,
      [],
    )
    .option('--validate-responses', 'check every answer against the OpenAPI schemas; see GET /__sim/stats')
    .option('--seed <text>', 'derive ids and secrets from this text, so restarts keep the same credentials')
    .option(
      '--storages <n>',
      `regular backup storages, one per location, beside the disaster-recovery one (default 1, at most ${MAX_STORAGES})`,
      integer('--storages', 1, MAX_STORAGES),
    )
    .option(
      '--customers <n>',
      `customers the partner already has (default 0, at most ${MAX_SEEDED_CUSTOMERS})`,
      integer('--customers', 0, MAX_SEEDED_CUSTOMERS),
    )
    .option(
      '--datacenters <n>',
      `simulated data centres, each its own simulator on the next port (1..${MAX_DATA_CENTRES})`,
      integer('--datacenters', 1, MAX_DATA_CENTRES),
      1,
    )
    .option(
      '--partners-file <path>',
      'write a partners file (PARTNERS_FILE) for the data centres; print its .env lines',
    )
    .action(runSim);
}

/** Starts the data centres, writes the partners file if asked, prints, and runs until stopped. */
async function runSim(options: SimCommandOptions, command: Command): Promise<void> {
  const limits = limitsPerDataCentre(options, command);
  // The project's stop handling (docs/resilience.md): a stop exits 0, a second signal at once (130/143).
  const stop = handleStopSignals('sim', SIM_DRAIN_MS);
  const sims = await startDataCentres(options, limits, command);
  const partnersFile =
    options.partnersFile === undefined
      ? undefined
      : await writePartnersFile(options.partnersFile, sims, limits, command);
  printSimulators(sims, partnersFile);
  await untilStopSignal(stop);
  await Promise.all(sims.map((sim) => sim.close()));
}

/** One rate limit per data centre: a single `--rate-limit` applies to each. */
function limitsPerDataCentre(options: SimCommandOptions, command: Command): (number | null)[] {
  const given = options.rateLimit ?? [null];
  if (given.length === 1) return Array.from({ length: options.datacenters }, () => given[0] ?? null);
  if (given.length === options.datacenters) return given;
  const centres = options.datacenters === 1 ? '1 data centre' : `${options.datacenters} data centres`;
  return command.error(
    `error: --rate-limit gives ${given.length} limits for ${centres} (--datacenters): give one, or one per data centre`,
    { exitCode: 2, code: 'sim.rateLimits' },
  );
}

/**
 * The single simulator as it always was, or `--datacenters N` of them on consecutive ports. An
 * address that cannot be had names the port that was taken.
 */
async function startDataCentres(
  options: SimCommandOptions,
  limits: (number | null)[],
  command: Command,
): Promise<RunningSimulator[]> {
  // Loaded only here: every other command (a `work` process) would otherwise carry the simulator.
  const { DataCentresError, startSimulator, startSimulators } = await import('../simulator/index.js');
  const shared = simulatorOptions(options);
  const at = (port: number) => ({
    port: { name: '--port', value: port },
    host: { name: '--host', value: options.host },
  });
  if (options.datacenters === 1) {
    return [await listening(at(options.port), () => startSimulator({ ...shared, rateLimit: limits[0] ?? null }))];
  }
  try {
    return await startSimulators(
      options.datacenters,
      shared,
      limits.map((rateLimit) => ({ rateLimit })),
    );
  } catch (err) {
    if (err instanceof DataCentresError) command.error(`error: --port, --datacenters: ${err.message}`, { exitCode: 2 });
    // Node's listen error carries the port it could not have: the message names that one.
    const taken = (err as { port?: unknown }).port;
    return listening(at(typeof taken === 'number' ? taken : options.port), () => Promise.reject(err));
  }
}

/** Written before anything is printed: a file that cannot be written stops the simulators. */
async function writePartnersFile(
  path: string,
  sims: RunningSimulator[],
  limits: (number | null)[],
  command: Command,
): Promise<WrittenPartnersFile> {
  try {
    const written = await writeSimPartnersFile(path, sims, limits);
    return { path: written, envLines: simPartnersEnvLines(written, sims) };
  } catch (err) {
    await Promise.all(sims.map((sim) => sim.close()));
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    command.error(tty`error: --partners-file ${path} cannot be written (${reason})`, { exitCode: 2 });
  }
}

/** `--no-retry-after` also takes the header off injected 429s. */
function withRetryAfterFlag(fault: Fault, retryAfter: boolean): Fault {
  return fault.kind === '429' && !retryAfter ? { ...fault, retryAfter: null } : fault;
}

/** The options every data centre shares; the rate limit is each one's own. */
function simulatorOptions(options: SimCommandOptions): Partial<SimulatorOptions> & { port: number; host: string } {
  return {
    port: options.port,
    host: options.host,
    ...(options.latency !== undefined ? { latencyMs: options.latency } : {}),
    ...(options.jitter !== undefined ? { jitterMs: options.jitter } : {}),
    ...(options.rateLimitAt.length > 0 ? { rateLimitChanges: options.rateLimitAt } : {}),
    ...(options.retryAfter ? {} : { retryAfter: false }),
    ...(options.tokenTtl !== undefined ? { tokenTtlSeconds: options.tokenTtl } : {}),
    ...(options.fault.length > 0
      ? { faults: options.fault.map((f) => withRetryAfterFlag(f, options.retryAfter)) }
      : {}),
    ...(options.validateResponses ? { validateResponses: true } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
    ...(options.storages !== undefined ? { storages: options.storages } : {}),
    ...(options.customers !== undefined ? { customers: options.customers } : {}),
  };
}
