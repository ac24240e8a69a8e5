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
import { listening } from './listen-settings.js';
import { integer, port } from './option-values.js';
import { handleStopSignals, untilStopSignal } from './stop-signal.js';

/**
 * Nothing to drain: the simulator's close cuts the (fake) answers still in flight, those held by
 * --latency included. The stop deadline (SHUTDOWN_MARGIN_MS past this) only cuts a close that hangs.
 */
const SIM_DRAIN_MS = 0;

function positiveNumber(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('must be a number above 0');
  return number;
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
  rateLimit?: number;
  rateLimitAt: RateLimitChange[];
  retryAfter: boolean;
  tokenTtl?: number;
  fault: Fault[];
  validateResponses?: boolean;
  seed?: string;
  storages?: number;
  customers?: number;
}

function printSeed(sim: RunningSimulator): void {
  const { seed } = sim;
  console.log(`Acronis API simulator listening on ${sim.url} (API at ${sim.url}/api/2)`);
  console.log('');
  console.log(`Partner tenant    ${seed.partnerName} (${seed.partnerTenantId})`);
  console.log(`Customers         ${seed.customers} existing`);
  console.log(`API client id     ${seed.clientId}`);
  console.log(`API client secret ${seed.clientSecret}`);
  console.log(`Admin login       ${seed.adminLogin}`);
  console.log(`Admin password    ${seed.adminPassword}`);
  for (const infra of seed.infras)
    console.log(`Storage           ${infra.name} (${infra.id}, ${infra.capabilities.join(', ')})`);
  console.log('');
  console.log(`export ACRONIS_BASE_URL=${sim.url}`);
  console.log(`export ACRONIS_CLIENT_ID=${seed.clientId}`);
  console.log(`export ACRONIS_CLIENT_SECRET=${seed.clientSecret}`);
  console.log('');
  console.log(
    `Inspect: ${sim.url}/__sim/state, ${sim.url}/__sim/stats, ${sim.url}/__sim/config (PUT to change). Ctrl-C stops.`,
  );
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
    .option('--rate-limit <n>', 'requests per second over all callers; above it 429 + Retry-After', positiveNumber)
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
    .action(async (options: SimCommandOptions) => {
      // The project's stop handling (docs/resilience.md): a stop exits 0, a second signal at once (130/143).
      const stop = handleStopSignals('sim', SIM_DRAIN_MS);
      // Loaded only here: every other command (a `work` process) would otherwise carry the simulator.
      const { startSimulator } = await import('../simulator/index.js');
      const at = { port: { name: '--port', value: options.port }, host: { name: '--host', value: options.host } };
      const sim = await listening(at, () => startSimulator(simulatorOptions(options)));
      printSeed(sim);
      await untilStopSignal(stop);
      await sim.close();
    });
}

/** `--no-retry-after` also takes the header off injected 429s. */
function withRetryAfterFlag(fault: Fault, retryAfter: boolean): Fault {
  return fault.kind === '429' && !retryAfter ? { ...fault, retryAfter: null } : fault;
}

function simulatorOptions(options: SimCommandOptions): Partial<SimulatorOptions> & { port: number; host: string } {
  return {
    port: options.port,
    host: options.host,
    ...(options.latency !== undefined ? { latencyMs: options.latency } : {}),
    ...(options.jitter !== undefined ? { jitterMs: options.jitter } : {}),
    ...(options.rateLimit !== undefined ? { rateLimit: options.rateLimit } : {}),
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
