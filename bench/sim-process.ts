import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * `acronis-onboard sim` in its own process, as the benches run it: the simulator's CPU is then
 * not the measured process's. Resolves with the ACRONIS_* variables it prints.
 */
export interface SimProcess {
  child: ChildProcess;
  vars: Record<string, string>;
  stop(): void;
}

const ROOT = resolve(import.meta.dirname, '..');

export async function startSimProcess(args: string[] = []): Promise<SimProcess> {
  const child = spawn(process.execPath, ['bin/acronis-onboard.js', 'sim', '--port', '0', ...args], { cwd: ROOT });
  const out = await waitForLine(child, /ACRONIS_CLIENT_SECRET=\S+/);
  const vars = Object.fromEntries(
    [...out.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1] as string, m[2] as string]),
  );
  return { child, vars, stop: () => child.kill('SIGTERM') };
}

/** The last bytes of stderr are kept so that a child dying before its line says why. */
const STDERR_KEPT = 4096;

export function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  let out = '';
  let err = '';
  return new Promise((ok, fail) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (pattern.test(out)) {
        child.stdout?.off('data', onData);
        child.stderr?.off('data', onErr);
        ok(out);
      }
    };
    const onErr = (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-STDERR_KEPT);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.once('exit', (code, signal) => fail(new Error(`exited ${code ?? signal}\nstdout: ${out}\nstderr: ${err}`)));
  });
}
