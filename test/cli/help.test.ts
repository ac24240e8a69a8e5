import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, COMMAND_NAMES } from '../../src/cli/program.js';
import { cliEnv, CLI_CWD, runCli, spawnCli, startCli, type RunningCli } from '../helpers/cli.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/** `--help` as a newcomer reads it, one spelling for output formats, and `serve` listening where it is told. */
let t: TestPipeline;
const started: RunningCli[] = [];

beforeAll(async () => {
  t = await startTestPipeline({ label: 'help', env: { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars' } });
});
afterAll(async () => {
  for (const cli of started) if (cli.child.exitCode === null) cli.child.kill('SIGKILL');
  await t?.close();
});

const bare = { PATH: process.env.PATH ?? '', HOME: CLI_CWD };
const help = async (args: string[]) => (await spawnCli(CLI_CWD, [...args, '--help'], bare)).stdout;

/** A command's `--help`, as the program prints it. */
async function helpOf(name: string): Promise<string> {
  let text = '';
  const program = (await buildProgram()).configureOutput({ writeOut: (chunk) => (text += chunk) });
  const command = program.commands.find((c) => c.name() === name);
  if (!command) throw new Error(`no command ${name}`);
  command.configureOutput({ writeOut: (chunk) => (text += chunk) }).outputHelp();
  return text;
}

/** The order a user meets the commands in: the demo, the simulator, then going live. */
const MET_IN_ORDER = ['demo', 'sim', 'bootstrap', 'check', 'work', 'import', 'status', 'results', 'retry'];

describe('--help', () => {
  it('lists the commands in the order a user meets them', async () => {
    const text = await help([]);
    const commands = [...text.split('Commands:')[1]!.matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]);
    expect(commands.slice(0, MET_IN_ORDER.length)).toEqual(MET_IN_ORDER);
    expect(commands).toEqual(expect.arrayContaining(['resend-activation', 'serve', 'start', 'reseal', 'help']));
  });

  it("each command's help names the variables it reads and its doc page", async () => {
    const commands = [...MET_IN_ORDER, 'resend-activation', 'serve', 'start', 'sources', 'reseal'];
    // In this process: a dozen more commands started at once would only test the machine's load.
    const texts = await Promise.all(commands.map(helpOf));
    for (const [i, text] of texts.entries()) {
      expect(text, commands[i]).toMatch(/^Environment: /m);
      expect(text, commands[i]).toMatch(/^Docs: +docs\/[a-z-]+\.md/m);
    }
    const of = (name: string) => texts[commands.indexOf(name)]!.replace(/\s+/g, ' ');
    expect(of('check')).toMatch(/ACRONIS_BASE_URL, ACRONIS_CLIENT_ID, ACRONIS_CLIENT_SECRET/);
    expect(of('check')).toContain('REDIS_URL');
    expect(of('serve')).toMatch(/HOST, PORT, WEBHOOK_SECRET/);
    expect(of('serve')).toMatch(/--port <port>.*--host <host>/);
    expect(of('start')).toContain('WORKER_CONCURRENCY');
    expect(of('import')).toContain('Docs: docs/csv.md');
    expect(of('sim')).toContain('Environment: none Docs: docs/simulator.md');
    expect(of('sources')).toMatch(/SOURCES_DIR.*Docs: docs\/sources\.md/);
    // The server takes its sources from SOURCES_DIR, their secrets from variables the files name.
    for (const name of ['serve', 'start']) {
      expect(of(name), name).toMatch(/Environment: .*SOURCES_DIR.*\(from the environment or \.env/);
      expect(of(name), name).toMatch(/Source secrets: the variables each source file in SOURCES_DIR names/);
    }
    expect(of('import')).not.toContain('SOURCES_DIR');
  });
});

describe('loading only the command named', () => {
  it('the table names every command, each one registered by the module loaded for it, with its options', async () => {
    const full = await buildProgram();
    expect(full.commands.map((c) => c.name())).toEqual(COMMAND_NAMES);
    for (const command of full.commands) {
      const alone = (await buildProgram(command.name())).commands.find((c) => c.name() === command.name());
      expect(alone, command.name()).toBeDefined();
      expect(alone!.options.map((o) => o.flags)).toEqual(command.options.map((o) => o.flags));
      expect(alone!.helpInformation()).toBe(command.helpInformation());
    }
  });

  it('a misspelt command is still answered with the one meant', async () => {
    const run = await spawnCli(CLI_CWD, ['statsu'], bare);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command 'statsu'[\s\S]*Did you mean status\?/);
  });
});

describe('output formats: one spelling', () => {
  it('status --format json, and --json as before', async () => {
    const env = { ...bare, REDIS_URL: t.config.REDIS_URL, QUEUE_PREFIX: t.prefix };
    const format = await spawnCli(CLI_CWD, ['status', '--format', 'json'], env);
    expect(format.code, format.stderr).toBe(0);
    expect(JSON.parse(format.stdout)).toEqual([]);
    const alias = await spawnCli(CLI_CWD, ['status', '--json'], env);
    expect(alias.stdout).toBe(format.stdout);
    const wrong = await spawnCli(CLI_CWD, ['status', '--format', 'xml'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--format');
  });
});

describe('serve --port and --host', () => {
  it('listens where the options say, not at PORT', async () => {
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const cli = startCli(['serve', '--port', String(port), '--host', '127.0.0.1'], cliEnv(t, { PORT: '1' }));
    started.push(cli);
    await cli.waitFor(new RegExp(`listening on http://127\\.0\\.0\\.1:${port} `), 'serve to listen');
    cli.child.kill('SIGTERM');
    expect((await cli.exited).code).toBe(0);
  });

  it('refuses a --port that is no port, naming it', async () => {
    const run = await runCli(t, ['serve', '--port', 'http']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--port must be an integer in 0..65535');
  });
});
