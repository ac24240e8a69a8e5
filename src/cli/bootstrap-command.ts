import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { parse as parseDotenv } from 'dotenv';
import { read } from 'read';
import { createApiClient, getCurrentUser } from '../acronis/auth.js';
import { USER_AGENT } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import { AcronisTransport } from '../acronis/transport.js';
import { generateSecretsKey } from '../secrets/secret-box.js';
import { dataCenterUrlSchema } from '../config.js';
import { writeOwnerOnly } from './owner-only-file.js';
import { terminalSafe, tty } from './terminal-text.js';

/**
 * `acronis-onboard bootstrap --base-url URL --login LOGIN`: the first step of Acronis' own
 * hands-on lab, done for the operator. With a user's password (asked without echo, never stored)
 * it creates an API client in the user's tenant and writes the variables every other command
 * needs to `.env`, readable by its owner only.
 */
interface BootstrapOptions {
  baseUrl: string;
  login: string;
  envFile: string;
  clientName: string;
  force?: boolean;
}

/** Secrets an existing file keeps on `--force`: a new SECRETS_KEY would lock the install out of what it sealed. */
const KEPT_SECRETS = ['SECRETS_KEY', 'WEBHOOK_SECRET', 'CALLBACK_SECRET'] as const;

export function registerBootstrapCommand(program: Command): void {
  program
    .command('bootstrap')
    .description(
      'create an API client with a user login and write ACRONIS_*, SECRETS_KEY and the webhook secrets to .env',
    )
    .requiredOption('--base-url <url>', 'the data-centre URL, e.g. https://eu2-cloud.acronis.com')
    .requiredOption('--login <login>', 'a user of the partner tenant that will receive the customers')
    .option('--env-file <file>', 'where to write', '.env')
    .option('--client-name <name>', 'the API client name shown in the management portal', 'acronis-onboard')
    .option('--force', 'overwrite an existing file (its SECRETS_KEY and secrets are kept)')
    .action(async (opts: BootstrapOptions) => {
      process.exitCode = await bootstrap(opts);
    });
}

async function bootstrap(opts: BootstrapOptions): Promise<number> {
  const url = dataCenterUrlSchema.safeParse(opts.baseUrl);
  if (!url.success) return refuse(`--base-url ${url.error.issues[0]?.message ?? 'is not a URL'}`);
  const baseUrl = url.data;
  const path = resolve(opts.envFile);
  const existing = await readExisting(path);
  if (existing && !opts.force)
    return refuse(`${opts.envFile} exists; pass --force to overwrite it (its SECRETS_KEY is kept)`);
  const password = await askPassword(opts.login);
  if (!password) return refuse('no password given');
  const api = new AcronisTransport({ baseUrl, userAgent: USER_AGENT });
  let values: Record<string, string>;
  try {
    const user = await getCurrentUser(api, { login: opts.login, password });
    const client = await createApiClient(api, {
      tenantId: user.tenant_id,
      clientName: opts.clientName,
      login: opts.login,
      password,
    });
    values = {
      ACRONIS_BASE_URL: baseUrl,
      ACRONIS_CLIENT_ID: client.client_id,
      ACRONIS_CLIENT_SECRET: client.client_secret,
      ACRONIS_PARENT_TENANT_ID: user.tenant_id,
    };
  } catch (err) {
    if (err instanceof AcronisApiError) return refuse(explain(err, opts.login, baseUrl));
    throw err;
  }
  const fresh = { SECRETS_KEY: generateSecretsKey(), WEBHOOK_SECRET: secret(), CALLBACK_SECRET: secret() };
  const kept = KEPT_SECRETS.filter((k) => existing?.[k]);
  await writeEnvFile(path, { ...existing, ...fresh, ...pick(existing, kept), ...values });
  console.log(
    tty`wrote ${opts.envFile} (mode 0600): API client ${values.ACRONIS_CLIENT_ID} in tenant ${values.ACRONIS_PARENT_TENANT_ID}`,
  );
  const made = KEPT_SECRETS.filter((k) => !kept.includes(k));
  console.log(
    `  new: ${made.join(', ') || 'none'}${kept.length > 0 ? `; kept: ${kept.join(', ')}` : ''}; the password was not stored`,
  );
  console.log('next: acronis-onboard check');
  return 0;
}

async function readExisting(path: string): Promise<Record<string, string> | undefined> {
  try {
    return parseDotenv(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** From a terminal without echo; from a pipe, its first line (scripts, tests). */
async function askPassword(login: string): Promise<string> {
  const answer = await read({ prompt: `password for ${login}: `, silent: true, replace: '', output: process.stderr });
  return String(answer).trim();
}

function explain(err: AcronisApiError, login: string, baseUrl: string): string {
  if (err.status === 401)
    return `${baseUrl} refused the login ${login} (401): check the login, its password and the data centre`;
  if (err.status === 403)
    return `${login} may not create API clients (403): use an administrator of the partner tenant`;
  return `${baseUrl} answered: ${err.message}`;
}

function refuse(message: string): number {
  // The message may hold the API's own words.
  console.error(`acronis-onboard bootstrap: ${terminalSafe(message)}`);
  return 2;
}

function secret(): string {
  return randomBytes(24).toString('base64url');
}

function pick(values: Record<string, string> | undefined, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.flatMap((k) => (values?.[k] ? [[k, values[k]]] : [])));
}

/** Plain values unquoted, anything else single-quoted (dotenv reads those literally). */
function envLine(key: string, value: string): string {
  if (/['\r\n]/.test(value)) throw new Error(`${key} holds a quote or a line break; write it to the file by hand`);
  return /^[\w+/=.:@-]*$/.test(value) ? `${key}=${value}` : `${key}='${value}'`;
}

async function writeEnvFile(path: string, values: Record<string, string>): Promise<void> {
  const text = `# written by acronis-onboard bootstrap; see docs/configuration.md\n${Object.entries(values)
    .map(([k, v]) => envLine(k, v))
    .join('\n')}\n`;
  await writeOwnerOnly(path, text);
}
