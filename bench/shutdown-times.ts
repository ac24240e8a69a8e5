/**
 * `npm run bench:shutdown`: how long each long-running command takes to exit after SIGTERM
 * (BENCHMARKS.md "Shutdown times", docs/resilience.md), in three states:
 *
 *   up     Redis up, nothing to do
 *   down   its private redis-server SIGKILLed, the command told of it ("unreachable")
 *   hung   a step's API call in flight that the simulator never answers (POST /tenants hangs)
 *
 * for `work`, `serve`, `start` and `import --wait`, with SHUTDOWN_TIMEOUT_MS=5000: the bound is
 * 5 s + 5 s. Each figure is the time from the signal to the process's exit, with its exit code.
 *
 *   npm run bench:shutdown -- [RUNS]
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateSecretsKey } from '../src/secrets/secret-box.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';
import { startCli, type RunningCli } from '../test/helpers/cli.js';
import { startPrivateRedis, type PrivateRedisServer } from '../test/helpers/redis-server.js';

const SHUTDOWN_TIMEOUT_MS = 5000;
const RUNS = Number(process.argv[2] ?? 3);
type State = 'up' | 'down' | 'hung';
type CommandName = 'work' | 'serve' | 'start' | 'import --wait';

const READY: Record<CommandName, RegExp> = {
  work: /workers started/,
  serve: /listening on http/,
  start: /listening on http/,
  'import --wait': /progress \d+\/\d+/,
};

interface Bench {
  redis: PrivateRedisServer;
  sim: RunningSimulator;
  env: Record<string, string>;
  csv: string;
}

async function setUp(): Promise<Bench> {
  const redis = await startPrivateRedis();
  const sim = await startSimulator({ port: 0, host: '127.0.0.1', latencyMs: 20 });
  const env = {
    PATH: process.env.PATH ?? '',
    REDIS_URL: redis.url,
    QUEUE_PREFIX: `bench-shutdown-${randomUUID()}`,
    ACRONIS_BASE_URL: sim.url,
    ACRONIS_CLIENT_ID: sim.seed.clientId,
    ACRONIS_CLIENT_SECRET: sim.seed.clientSecret,
    ACRONIS_PARENT_TENANT_ID: sim.seed.partnerTenantId,
    SECRETS_KEY: generateSecretsKey(),
    WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars',
    PORT: '0',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    ACRONIS_TIMEOUT_MS: '120000',
    LOG_LEVEL: 'info',
  };
  const csv = join(tmpdir(), `bench-shutdown-${process.pid}.csv`);
  return { redis, sim, env, csv };
}

/** One customer per run, a new one each time, so there is always a step to hang in. */
let serial = 0;
function freshCsv(b: Bench): string {
  serial += 1;
  writeFileSync(b.csv, `external_id,name,email\nsd-${serial},Shutdown ${serial},a${serial}@sd.example\n`);
  return b.csv;
}

/** `import --wait` needs a batch that does not end: no worker runs beside it (or its step hangs). */
async function launch(b: Bench, command: CommandName): Promise<RunningCli> {
  const args = command === 'import --wait' ? ['import', '--wait', freshCsv(b)] : [command];
  const cli = startCli(args, b.env);
  await cli.waitFor(READY[command], `${command} to start`);
  return cli;
}

async function bringAbout(b: Bench, state: State, cli: RunningCli): Promise<void> {
  if (state === 'down') {
    const from = cli.output().length;
    await b.redis.kill();
    await cli.waitFor(/is unreachable/, 'the outage to be seen', from);
  }
  if (state === 'hung') {
    const before = postTenants(b.sim);
    b.sim.configure({ faults: [{ kind: 'hang', path: '^/tenants$', methods: ['POST'], hangMs: 600_000 }] });
    const enqueue = startCli(['import', freshCsv(b)], b.env);
    await enqueue.exited;
    while (postTenants(b.sim) === before) await sleep(20);
  }
}

function postTenants(sim: RunningSimulator): number {
  return Object.values(sim.stats().byEndpoint['POST /tenants'] ?? {}).reduce((a, n) => a + n, 0);
}

async function measure(b: Bench, command: CommandName, state: State): Promise<string> {
  // Neither makes an API call once started: nothing of theirs can hang.
  if (state === 'hung' && (command === 'serve' || command === 'import --wait')) return 'n/a';
  const cli = await launch(b, command);
  await bringAbout(b, state, cli);
  const t0 = performance.now();
  cli.child.kill('SIGTERM');
  const { code, signal } = await cli.exited;
  const seconds = (performance.now() - t0) / 1000;
  b.sim.configure({ faults: [] });
  if (state === 'down') await b.redis.start();
  return `${seconds.toFixed(2)} s (exit ${code ?? signal})`;
}

async function main(): Promise<void> {
  const b = await setUp();
  try {
    const commands: CommandName[] = ['work', 'serve', 'start', 'import --wait'];
    const states: State[] = ['up', 'down', 'hung'];
    console.log(
      `SHUTDOWN_TIMEOUT_MS=${SHUTDOWN_TIMEOUT_MS}; bound ${(SHUTDOWN_TIMEOUT_MS + 5000) / 1000} s; ${RUNS} runs each`,
    );
    console.log(`| command | ${states.join(' | ')} |\n|---|${states.map(() => '---').join('|')}|`);
    for (const command of commands) {
      const cells: string[] = [];
      for (const state of states) {
        const runs: string[] = [];
        for (let i = 0; i < RUNS; i++) runs.push(await measure(b, command, state));
        cells.push(runs.join(', '));
      }
      console.log(`| \`${command}\` | ${cells.join(' | ')} |`);
    }
  } finally {
    await b.sim.close();
    await b.redis.destroy();
  }
}

await main();
