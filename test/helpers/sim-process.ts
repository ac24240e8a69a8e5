import { execFile, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

/** `acronis-onboard sim` as a child process, in an empty directory with only PATH and HOME set. */

const BIN = resolve(import.meta.dirname, '../../bin/acronis-onboard.js');
export const SIM_CWD = mkdtempSync(join(tmpdir(), 'acronis-onboard-sim-'));
const env = { PATH: process.env.PATH ?? '', HOME: SIM_CWD };

/** `sim --port 0 ARGS` once its stdout holds `ready`; `exited` gives its exit code. */
export async function startSimProcess(args: string[], ready: string) {
  const child = spawn(process.execPath, [BIN, 'sim', '--port', '0', ...args], { cwd: SIM_CWD, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  await new Promise<void>((started, fail) => {
    const timer = setTimeout(() => fail(new Error(`no "${ready}" in time:\n${stdout}\n${stderr}`)), 20_000);
    child.stdout.on('data', () => {
      if (stdout.includes(ready)) {
        clearTimeout(timer);
        started();
      }
    });
  });
  return { child, stdout, stderr: () => stderr, exited };
}

/** `sim --port 0 ARGS` that is expected to refuse: its exit code and stderr. */
export async function refusedSim(...args: string[]): Promise<{ code: number; stderr: string }> {
  const failure = await promisify(execFile)(process.execPath, [BIN, 'sim', '--port', '0', ...args], {
    cwd: SIM_CWD,
    env,
    timeout: 20_000,
  }).catch((e: { code: number; stderr: string }) => e);
  return failure as { code: number; stderr: string };
}
