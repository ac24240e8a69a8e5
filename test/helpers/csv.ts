import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { openProducer, type Producer } from '../../src/producers/producer.js';
import type { CustomerRequest } from '../../src/onboarding/customer-request.js';
import type { TestPipeline } from './pipeline.js';

/** CSV fixtures, temporary CSV files, a producer on the test pipeline, and the CLI as a child process. */

export const CSV_FIXTURES = resolve(import.meta.dirname, '../fixtures/csv');

export function csvFixture(name: string): string {
  return join(CSV_FIXTURES, name);
}

const tempDir = mkdtempSync(join(tmpdir(), 'acronis-onboard-csv-'));

/** Writes `content` (text or raw bytes) to a fresh file and returns its path. */
export function tempCsv(name: string, content: string | Uint8Array): string {
  const path = join(tempDir, name);
  writeFileSync(path, content);
  return path;
}

/** A CSV of the given customers, header from the first one's fields (plus any extra). */
export function csvOf(customers: readonly CustomerRequest[], opts: { eol?: string; bom?: boolean } = {}): string {
  const columns = [...new Set(customers.flatMap((c) => Object.keys(c)))];
  const cell = (v: unknown) => {
    const text = v === undefined ? '' : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const eol = opts.eol ?? '\n';
  const lines = [columns.join(','), ...customers.map((c) => columns.map((k) => cell((c as Record<string, unknown>)[k])).join(','))];
  return `${opts.bom ? '\uFEFF' : ''}${lines.join(eol)}${eol}`;
}

export function openTestProducer(t: TestPipeline): Promise<Producer> {
  return openProducer(t.config, { logger: t.logger });
}

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/acronis-onboard.js');
// An empty working directory, so no developer's .env leaks into what the command sees.
const cwd = mkdtempSync(join(tmpdir(), 'acronis-onboard-csv-cli-'));

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `acronis-onboard <args>` with the test pipeline's configuration; stdout is a pipe, not a TTY. */
export async function importCli(t: TestPipeline, args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: cwd };
  for (const [key, value] of Object.entries(t.config)) if (value !== undefined) env[key] = String(value);
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { cwd, env: { ...env, LOG_LEVEL: 'warn', ...extraEnv }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
