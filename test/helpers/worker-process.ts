import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Config } from '../../src/config.js';

const BIN = fileURLToPath(new URL('../../bin/acronis-onboard.js', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** What it printed, for failure messages. */
  output(): string;
}

/**
 * `acronis-onboard work` in its own process, configured like a test pipeline (`config`), so a
 * test can kill it as a crash would. The caller kills what is left in `children` afterwards.
 */
export function spawnWorkerProcess(config: Config, children: ChildProcess[]): WorkerProcess {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  for (const [key, value] of Object.entries(config)) if (value !== undefined) env[key] = String(value);
  env.LOG_LEVEL = 'info';
  const child = spawn(process.execPath, [BIN, 'work'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { child, output: () => text };
}
