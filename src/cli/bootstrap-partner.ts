import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { createApiClient, getCurrentUser } from '../acronis/auth.js';
import { USER_AGENT } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import { AcronisTransport } from '../acronis/transport.js';
import { dataCenterUrlSchema } from '../config.js';
import { ENV_PARTNER_NAME, PARTNER_NAME, dataCenterOf } from '../partners/partner-set.js';
import { partnersFileSchema, type PartnersFile } from '../partners/partners-file.js';
import { generateSecretsKey } from '../secrets/secret-box.js';
import type { BootstrapOptions } from './bootstrap-command.js';
import { askPassword, explain, readExisting, refuse, secret, writeEnvFile } from './bootstrap-steps.js';
import { writeOwnerOnly } from './owner-only-file.js';
import { tty } from './terminal-text.js';

/**
 * `bootstrap --partner NAME` (docs/commands.md "Several partners"): an API client created in the
 * user's tenant as `bootstrap` does, the partner added to the partners file with the names of two
 * new variables, and those variables (the client's id and secret) added to `.env`. The first time,
 * the file is made: with the partner of the present ACRONIS_* variables in it as `default` (its
 * customers keep their partner), so an install grows from one partner to two without a move.
 */
type Entry = PartnersFile['partners'][number];

export async function bootstrapPartner(opts: BootstrapOptions): Promise<number> {
  const name = (opts.partner ?? '').trim();
  if (!PARTNER_NAME.test(name)) return refuse(`--partner "${name}": must be 1–32 of a–z, digits and -`);
  const url = dataCenterUrlSchema.safeParse(opts.baseUrl);
  if (!url.success) return refuse(`--base-url ${url.error.issues[0]?.message ?? 'is not a URL'}`);
  const baseUrl = url.data;
  const envPath = resolve(opts.envFile);
  const env = (await readExisting(envPath)) ?? {};
  const filePath = resolve(opts.partnersFile ?? env.PARTNERS_FILE ?? join(dirname(envPath), 'partners.json'));
  const read = await readPartners(filePath, env);
  if (typeof read === 'string') return refuse(read);
  const variables = variablesOf(name);
  const taken = nameTaken(read, name, variables, env, filePath);
  if (taken) return refuse(taken);

  const password = await askPassword(opts.login);
  if (!password) return refuse('no password given');
  const api = new AcronisTransport({ baseUrl, userAgent: USER_AGENT });
  let entry: Entry;
  let client: { client_id: string; client_secret: string };
  try {
    const user = await getCurrentUser(api, { login: opts.login, password });
    const twin = read.file.partners.find((p) => sameTenant(p, baseUrl, user.tenant_id, env));
    if (twin)
      return refuse(
        `partners "${twin.name}" and "${name}" would reach the same partner tenant ${user.tenant_id} in ${dataCenterOf(baseUrl)}: ` +
          `"${twin.name}" serves it already; no API client was created`,
      );
    client = await createApiClient(api, {
      tenantId: user.tenant_id,
      clientName: opts.clientName,
      login: opts.login,
      password,
    });
    entry = { name, base_url: baseUrl, ...variables, parent_tenant_id: user.tenant_id };
  } catch (err) {
    if (err instanceof AcronisApiError) return refuse(explain(err, opts.login, baseUrl));
    throw err;
  }
  const file: PartnersFile = {
    default: read.file.default ?? read.file.partners[0]?.name ?? name,
    partners: [...read.file.partners, entry],
  };
  await writeOwnerOnly(filePath, `${JSON.stringify(file, null, 2)}\n`);
  await writeEnvFile(envPath, envWith(env, read.migrated, filePath, entry, client));
  report(opts, filePath, read.migrated, entry, client.client_id);
  return 0;
}

/** The partners file as it is, or — none yet — the one partner of the ACRONIS_* variables, if set. */
async function readPartners(
  path: string,
  env: Record<string, string>,
): Promise<{ file: PartnersFile; migrated: boolean } | string> {
  let text: string | undefined;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (text === undefined) {
    const present = env.ACRONIS_BASE_URL && env.ACRONIS_CLIENT_ID && env.ACRONIS_CLIENT_SECRET;
    if (!present) return { file: { partners: [] }, migrated: false };
    const partner: Entry = {
      name: ENV_PARTNER_NAME,
      base_url: env.ACRONIS_BASE_URL as string,
      client_id_env: 'ACRONIS_CLIENT_ID',
      client_secret_env: 'ACRONIS_CLIENT_SECRET',
      ...(env.ACRONIS_PARENT_TENANT_ID ? { parent_tenant_id: env.ACRONIS_PARENT_TENANT_ID } : {}),
    };
    return { file: { default: ENV_PARTNER_NAME, partners: [partner] }, migrated: true };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return `partners file ${path} is not valid JSON (${(err as Error).message}): mend it first (check names the field)`;
  }
  const parsed = partnersFileSchema.safeParse(json);
  if (!parsed.success)
    return `partners file ${path} cannot be used: mend it first (acronis-onboard check names the field)`;
  return { file: parsed.data, migrated: false };
}

/** `eu-west` → EU_WEST_ACRONIS_CLIENT_ID and EU_WEST_ACRONIS_CLIENT_SECRET. */
function variablesOf(name: string): Pick<Entry, 'client_id_env' | 'client_secret_env'> {
  const stem = name.toUpperCase().replace(/-/g, '_');
  return { client_id_env: `${stem}_ACRONIS_CLIENT_ID`, client_secret_env: `${stem}_ACRONIS_CLIENT_SECRET` };
}

/** A partner of that name already, or its variables in use: refused before any client is made. */
function nameTaken(
  read: { file: PartnersFile },
  name: string,
  variables: Pick<Entry, 'client_id_env' | 'client_secret_env'>,
  env: Record<string, string>,
  filePath: string,
): string | undefined {
  const index = read.file.partners.findIndex((p) => p.name === name);
  if (index >= 0)
    return `partner "${name}" is partners[${index}] of ${filePath} already: give the new partner another name`;
  const used = Object.values(variables).find((v) => env[v] !== undefined);
  if (used) return `${used} is set in the .env already: give the new partner another name`;
  return undefined;
}

/** Another partner reaching that tenant in that data centre (configured, or its client's own tenant unknown here). */
function sameTenant(p: Entry, baseUrl: string, tenantId: string, env: Record<string, string>): boolean {
  if (dataCenterOf(p.base_url) !== dataCenterOf(baseUrl)) return false;
  const tenant =
    p.parent_tenant_id ?? (p.client_id_env === 'ACRONIS_CLIENT_ID' ? env.ACRONIS_PARENT_TENANT_ID : undefined);
  return tenant === tenantId;
}

/** The `.env` with the new client's variables and PARTNERS_FILE; secrets made only where missing. */
function envWith(
  env: Record<string, string>,
  migrated: boolean,
  filePath: string,
  entry: Entry,
  client: { client_id: string; client_secret: string },
): Record<string, string> {
  const next: Record<string, string> = { ...env };
  // Moved into the file with the present partner: left in .env they would be unused (check warns of them).
  if (migrated) for (const moved of ['ACRONIS_BASE_URL', 'ACRONIS_PARENT_TENANT_ID']) delete next[moved];
  next.SECRETS_KEY ??= generateSecretsKey();
  next.WEBHOOK_SECRET ??= secret();
  next.CALLBACK_SECRET ??= secret();
  const shown = relative(process.cwd(), filePath);
  next.PARTNERS_FILE = shown.startsWith('..') || isAbsolute(shown) ? filePath : shown;
  next[entry.client_id_env] = client.client_id;
  next[entry.client_secret_env] = client.client_secret;
  return next;
}

function report(opts: BootstrapOptions, filePath: string, migrated: boolean, entry: Entry, clientId: string): void {
  if (migrated)
    console.log(
      tty`made ${filePath}: the partner of ACRONIS_BASE_URL is partner "${ENV_PARTNER_NAME}" (the default; its customers stay its own)`,
    );
  console.log(
    tty`added partner "${entry.name}" to ${filePath}: API client ${clientId} in tenant ${entry.parent_tenant_id ?? ''}`,
  );
  console.log(
    tty`wrote ${opts.envFile} (mode 0600): ${entry.client_id_env}, ${entry.client_secret_env} and PARTNERS_FILE; the password was not stored`,
  );
  console.log('next: acronis-onboard check');
}
