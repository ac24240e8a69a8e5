import { resolve } from 'node:path';
import type { Command } from 'commander';
import { createApiClient, getCurrentUser } from '../acronis/auth.js';
import { USER_AGENT } from '../acronis/client.js';
import { AcronisApiError } from '../acronis/errors.js';
import { AcronisTransport } from '../acronis/transport.js';
import { generateSecretsKey } from '../secrets/secret-box.js';
import { dataCenterUrlSchema } from '../config.js';
import { tty } from './terminal-text.js';
import { askPassword, explain, pick, readExisting, refuse, secret, writeEnvFile } from './bootstrap-steps.js';
import { bootstrapPartner } from './bootstrap-partner.js';

/**
 * `acronis-onboard bootstrap --base-url URL --login LOGIN`: the first step of Acronis' own
 * hands-on lab, done for the operator. With a user's password (asked without echo, never stored)
 * it creates an API client in the user's tenant and writes the variables every other command
 * needs to `.env`, readable by its owner only.
 */
export interface BootstrapOptions {
  baseUrl: string;
  login: string;
  envFile: string;
  clientName: string;
  force?: boolean;
  /** Add a partner of that name to the partners file instead (src/cli/bootstrap-partner.ts). */
  partner?: string;
  partnersFile?: string;
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
    .option(
      '--partner <name>',
      "add a partner of that name to the partners file (created, with the present ACRONIS_* partner in it, when there is none) and its client's variables to .env",
    )
    .option(
      '--partners-file <file>',
      "with --partner: the partners file (default .env's PARTNERS_FILE, else partners.json)",
    )
    .action(async (opts: BootstrapOptions) => {
      process.exitCode = opts.partner ? await bootstrapPartner(opts) : await bootstrap(opts);
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
