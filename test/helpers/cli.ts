import { execFile, spawn } from 'node:child_process';
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
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: CLI_CWD };
  for (const [key, value] of Object.entries(t.config)) if (value !== undefined) env[key] = String(value);
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], {
      cwd: CLI_CWD,
      env: { ...env, LOG_LEVEL: 'warn', ...extraEnv },
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
