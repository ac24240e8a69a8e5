import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../../src/config.js';

/** `acronis-onboard` as a child process, configured like a test pipeline; stdout is a pipe, not a TTY. */

const run = promisify(execFile);
export const BIN = resolve(import.meta.dirname, '../../bin/acronis-onboard.js');
/** An empty working directory, so no developer's .env leaks into what the command sees. */
export const CLI_CWD = mkdtempSync(join(tmpdir(), 'acronis-onboard-cli-'));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  t: { config: Config },
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<CliRun> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: CLI_CWD,
      env: cliEnv(t, extraEnv),
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

export interface SpawnedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The real command in `cwd` with exactly `env` (no inherited variables) and `stdin` written to it. */
export function spawnCli(cwd: string, args: string[], env: Record<string, string>, stdin = ''): Promise<SpawnedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

/** The environment `runCli` gives a command: the pipeline's config, LOG_LEVEL warn, then `extraEnv`. */
export function cliEnv(t: { config: Config }, extraEnv: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: CLI_CWD };
  for (const [key, value] of Object.entries(t.config)) if (value !== undefined) env[key] = String(value);
  return { ...env, LOG_LEVEL: 'warn', ...extraEnv };
}

export interface RunningCli {
  child: ChildProcess;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /**
   * Resolves once the output (from `from` on) matches `pattern`; rejects, naming `what` and with
   * the output so far, if the command exits first or nothing matches within `timeoutMs`.
   */
  waitFor(pattern: RegExp, what: string, from?: number, timeoutMs?: number): Promise<void>;
  exited: Promise<CliExit>;
  /** `exited`, or a rejection naming `what` and with the output so far after `timeoutMs`. */
  exit(what: string, timeoutMs?: number): Promise<CliExit>;
}

export interface CliExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * Below vitest's 60 s test timeout: a command stuck on the way (waiting for a Redis an earlier
 * test left down, say) fails its test with what it printed, not with a bare timeout.
 */
const CLI_WAIT_MS = 40_000;

/** A long-running command (`work`, `import --wait`) as a child process the test signals and reads. */
export function startCli(args: string[], env: Record<string, string>): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: CLI_CWD, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<CliExit>((resolve) =>
    child.on('close', (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );
  const stuck = (what: string, timeoutMs: number) =>
    new Error(`no ${what} within ${timeoutMs / 1000} s; the command printed:\n${text}`);
  return {
    child,
    output: () => text,
    exited,
    exit(what, timeoutMs = CLI_WAIT_MS) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(stuck(what, timeoutMs)), timeoutMs);
      });
      return Promise.race([exited, late]).finally(() => clearTimeout(timer));
    },
    waitFor(pattern, what, from = 0, timeoutMs = CLI_WAIT_MS) {
      return new Promise((resolve, reject) => {
        const done = (err?: Error) => {
          listeners.delete(check);
          clearTimeout(timer);
          if (err) reject(err);
          else resolve();
        };
        const check = () => {
          if (pattern.test(text.slice(from))) done();
          else if (child.exitCode !== null || child.signalCode !== null)
            done(new Error(`the command exited before ${what}:\n${text}`));
        };
        const timer = setTimeout(() => done(stuck(what, timeoutMs)), timeoutMs);
        listeners.add(check);
        check();
      });
    },
  };
}
