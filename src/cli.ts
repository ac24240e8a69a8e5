import { CommanderError } from 'commander';
import { AcronisApiError } from './acronis/errors.js';
import { buildProgram } from './cli/program.js';
import { DemoRefusedError, RedisNotFoundError } from './demo/errors.js';
import { ConfigError, loadConfig } from './config.js';
import { ProfileError } from './onboarding/profile.js';
import { SourceFileError } from './sources/source-file.js';
import { terminalSafeLines } from './cli/terminal-text.js';
import { explainExpected } from './cli/expected-failures.js';
import { exitIfStopped } from './cli/stop-signal.js';

/**
 * The `acronis-onboard` command (docs/commands.md). Exit codes: 0 done, 1 the work failed,
 * 2 the configuration or the input is unusable (Redis not answering at REDIS_URL included),
 * 130/143 stopped by SIGINT/SIGTERM (docs/resilience.md).
 */
const program = buildProgram();

// `acronis-onboard status | head -1`: the reader has gone; stop quietly.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.exitCode = exitCodeFor(err);
}
// A stopped command has done its shutdown: what may still hold the event loop (a connection
// that reconnects, an API call that never answers) must not hold the exit.
exitIfStopped();

function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
  const expected = explainExpected(err, configForMessages());
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
function configForMessages(): Parameters<typeof explainExpected>[1] {
  try {
    return loadConfig();
  } catch {
    return {};
  }
}
