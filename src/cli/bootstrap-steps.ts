import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parse as parseDotenv } from 'dotenv';
import { read } from 'read';
import type { AcronisApiError } from '../acronis/errors.js';
import { writeOwnerOnly } from './owner-only-file.js';
import { terminalSafe } from './terminal-text.js';

/** What `bootstrap` and `bootstrap --partner` share: the `.env` read and written, the password asked, refusals. */

export async function readExisting(path: string): Promise<Record<string, string> | undefined> {
  try {
    return parseDotenv(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** From a terminal without echo; from a pipe, its first line (scripts, tests). */
export async function askPassword(login: string): Promise<string> {
  const answer = await read({ prompt: `password for ${login}: `, silent: true, replace: '', output: process.stderr });
  return String(answer).trim();
}

export function explain(err: AcronisApiError, login: string, baseUrl: string): string {
  if (err.status === 401)
    return `${baseUrl} refused the login ${login} (401): check the login, its password and the data centre`;
  if (err.status === 403)
    return `${login} may not create API clients (403): use an administrator of the partner tenant`;
  return `${baseUrl} answered: ${err.message}`;
}

export function refuse(message: string): number {
  // The message may hold the API's own words.
  console.error(`acronis-onboard bootstrap: ${terminalSafe(message)}`);
  return 2;
}

export function secret(): string {
  return randomBytes(24).toString('base64url');
}

export function pick(values: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((k) => (values?.[k] ? [[k, values[k]]] : [])));
}

/** Plain values unquoted, anything else single-quoted (dotenv reads those literally). */
function envLine(key: string, value: string): string {
  if (/['\r\n]/.test(value)) throw new Error(`${key} holds a quote or a line break; write it to the file by hand`);
  return /^[\w+/=.:@-]*$/.test(value) ? `${key}=${value}` : `${key}='${value}'`;
}

export async function writeEnvFile(path: string, values: Record<string, string>): Promise<void> {
  const text = `# written by acronis-onboard bootstrap; see docs/configuration.md\n${Object.entries(values)
    .map(([k, v]) => envLine(k, v))
    .join('\n')}\n`;
  await writeOwnerOnly(path, text);
}
