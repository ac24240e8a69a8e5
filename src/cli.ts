import { CommanderError } from 'commander';
import { buildProgram } from './cli/program.js';
import { terminalSafeLines } from './cli/terminal-text.js';
import { exitIfStopped } from './cli/stop-signal.js';
// Types only: erased from the build, so the modules load when a command fails, not at start.
import type { explainExpected } from './cli/expected-failures.js';
import type { loadConfig } from './config.js';

/**
 * The `acronis-onboard` command (docs/commands.md). Exit codes: 0 done, 1 the work failed,
 * 2 the configuration or the input is unusable (Redis not answering at REDIS_URL included),
 * 130/143 stopped by SIGINT/SIGTERM (docs/resilience.md). Only the module of the command named on
 * the line is loaded (src/cli/program.ts).
 */
const program = await buildProgram(process.argv[2]);

// `acronis-onboard status | head -1`: the reader has gone; stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = await exitCodeFor(err);
}
// A stopped command has done its shutdown: what may still hold the event loop (a connection
// that reconnects, an API call that never answers) must not hold the exit.
exitIfStopped();

/**
 * The error classes are imported here, when a command has failed, not at start: one of them
 * (SourceFileError) would bring in every source's parser for commands that read no source.
 */
async function exitCodeFor(err: unknown): Promise<number> {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const [
    { explainExpected: explain },
    { ConfigError, loadConfig: load },
    { ProfileError },
    { SourceFileError },
    { DemoRefusedError, RedisNotFoundError },
    { AcronisApiError },
  ] = await Promise.all([
    import('./cli/expected-failures.js'),
    import('./config.js'),
    import('./onboarding/profile.js'),
    import('./sources/source-file.js'),
    import('./demo/errors.js'),
    import('./acronis/errors.js'),
  ]);
  const expected = explain(err, configForMessages(load));
  if (expected) {
    if (expected.message) console.error(`acronis-onboard: ${terminalSafeLines(expected.message)}`);
    return expected.code;
  }
  if (err instanceof ConfigError) {
    console.error(err.message);
    return 2;
  }
  if (err instanceof ProfileError || err instanceof SourceFileError) {
    console.error(`acronis-onboard: ${terminalSafeLines(err.message)}`);
    return 2;
  }
  if (err instanceof RedisNotFoundError || err instanceof DemoRefusedError) {
    console.error(`acronis-onboard demo: ${terminalSafeLines(err.message)}`);
    return 2;
  }
  if (err instanceof AcronisApiError) {
    console.error(`acronis-onboard: ${terminalSafeLines(err.message)}`);
    return 1;
  }
  console.error(terminalSafeLines(err instanceof Error ? (err.stack ?? err.message) : String(err)));
  return 1;
}

/** The variables a message names, when the configuration can be read at all. */
function configForMessages(load: typeof loadConfig): Parameters<typeof explainExpected>[1] {
  try {
    return load();
  } catch {
    return {};
  }
}
