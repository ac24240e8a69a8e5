import { readJsonFile } from '../text/json-file.js';
import { z } from 'zod';
import { fieldPath } from '../text/field-path.js';
import { dataCenterUrlSchema, type Config } from '../config.js';
import { dataCenterOf, ENV_PARTNER_NAME, PARTNER_NAME, PartnerSet, type Partner } from './partner-set.js';

/**
 * The partners file (PARTNERS_FILE, docs/partners.md): every partner the install serves, with
 * the names of the environment variables that hold its API client, never the secrets. Strict: a
 * misspelt key is an error naming it. Without the file the install serves one partner, from
 * ACRONIS_BASE_URL, ACRONIS_CLIENT_ID and the rest, as it always has.
 */

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const rate = z.number({ error: 'must be a number' }).positive('must be above 0').max(10_000, 'must be ≤ 10000');

const partnerEntrySchema = z.strictObject({
  name: z.string().regex(PARTNER_NAME, 'must be 1–32 of a–z, digits and -, starting with a letter or digit'),
  base_url: dataCenterUrlSchema,
  client_id_env: envName,
  client_secret_env: envName,
  parent_tenant_id: z.guid({ error: 'must be a tenant UUID' }).optional(),
  profile: z.string().trim().min(1, 'must be a profile file path').optional(),
  rate_limit: rate.optional(),
  rate_ceiling: rate.optional(),
});

export const partnersFileSchema = z.strictObject({
  default: z.string().optional(),
  partners: z.array(partnerEntrySchema).min(1, 'must list at least one partner').max(64, 'must list at most 64'),
});
export type PartnersFile = z.infer<typeof partnersFileSchema>;

/** A partners file that cannot be used: the file, the field and the reason, for an exit 2. */
export class PartnersFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`partners file ${file}: ${field}: ${reason}`);
    this.name = 'PartnersFileError';
  }
}

/** What the file needs besides itself: the defaults it leaves out and the secrets it names. */
export interface PartnerDefaults {
  rateLimit: number;
  rateCeiling?: number;
  /** The environment variables, by name (config.ts reads them). */
  secret(name: string): string | undefined;
}

export async function loadPartnersFile(file: string, defaults: PartnerDefaults): Promise<PartnerSet> {
  const read = await readJsonFile(file);
  if ('problem' in read) throw new PartnersFileError(file, '(file)', read.problem);
  return parsePartnersFile(read.json, file, defaults);
}

export function parsePartnersFile(json: unknown, file: string, defaults: PartnerDefaults): PartnerSet {
  const parsed = partnersFileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0] ?? ''] : (issue?.path ?? []);
    const reason = issue?.code === 'unrecognized_keys' ? 'is not a partner setting (misspelt?)' : issue?.message;
    throw new PartnersFileError(file, fieldPath(path), reason ?? 'is not a valid partners file');
  }
  const entries = parsed.data.partners;
  refuseTwins(entries, file, defaults);
  const partners = entries.map((entry, i) => partnerOf(entry, i, file, defaults));
  const defaultName = parsed.data.default ?? (partners[0] as Partner).name;
  if (!partners.some((p) => p.name === defaultName))
    throw new PartnersFileError(file, 'default', `names no partner of the file ("${defaultName}")`);
  return new PartnerSet(partners, defaultName);
}

/** Two partners with one name, or one API client in one data centre: ambiguous, so the file is refused naming both. */
function refuseTwins(entries: PartnersFile['partners'], file: string, defaults: PartnerDefaults): void {
  entries.forEach((entry, i) => {
    const earlier = entries.slice(0, i).findIndex((other) => other.name === entry.name);
    if (earlier >= 0)
      throw new PartnersFileError(
        file,
        `partners[${i}].name`,
        `"${entry.name}" is also partners[${earlier}]'s name: each partner needs its own`,
      );
    const sameClient = entries.slice(0, i).findIndex((other) => sameApiClient(other, entry, defaults));
    if (sameClient >= 0)
      throw new PartnersFileError(
        file,
        `partners[${i}].client_id_env`,
        `partners "${entries[sameClient]?.name}" and "${entry.name}" use the same API client in the same data centre: ` +
          'one client reaches one partner tenant, so give each partner its own',
      );
  });
}

function sameApiClient(a: PartnersFile['partners'][number], b: typeof a, defaults: PartnerDefaults): boolean {
  if (dataCenterOf(a.base_url) !== dataCenterOf(b.base_url)) return false;
  if (a.client_id_env === b.client_id_env) return true;
  const [idA, idB] = [defaults.secret(a.client_id_env), defaults.secret(b.client_id_env)];
  return idA !== undefined && idA === idB;
}

function partnerOf(
  entry: PartnersFile['partners'][number],
  i: number,
  file: string,
  defaults: PartnerDefaults,
): Partner {
  const read = (field: 'client_id_env' | 'client_secret_env') => {
    const value = defaults.secret(entry[field]);
    if (value === undefined || value === '')
      throw new PartnersFileError(
        file,
        `partners[${i}].${field}`,
        `partner "${entry.name}": the environment variable ${entry[field]} is not set`,
      );
    return value;
  };
  const rateCeiling = entry.rate_ceiling ?? defaults.rateCeiling;
  return {
    name: entry.name,
    dataCenterUrl: entry.base_url,
    dataCenter: dataCenterOf(entry.base_url),
    clientId: read('client_id_env'),
    clientSecret: read('client_secret_env'),
    variables: { clientId: entry.client_id_env, clientSecret: entry.client_secret_env },
    ...(entry.parent_tenant_id ? { parentTenantId: entry.parent_tenant_id } : {}),
    ...(entry.profile ? { profilePath: entry.profile } : {}),
    rateLimit: entry.rate_limit ?? defaults.rateLimit,
    ...(rateCeiling !== undefined ? { rateCeiling } : {}),
  };
}

/** The one partner of an install configured with ACRONIS_* variables, as it was before partners. */
export function envPartnerSet(
  config: Pick<
    Config,
    | 'ACRONIS_BASE_URL'
    | 'ACRONIS_CLIENT_ID'
    | 'ACRONIS_CLIENT_SECRET'
    | 'ACRONIS_PARENT_TENANT_ID'
    | 'ACRONIS_RATE_LIMIT'
    | 'ACRONIS_RATE_CEILING'
  > & { ACRONIS_BASE_URL: string; ACRONIS_CLIENT_ID: string; ACRONIS_CLIENT_SECRET: string },
): PartnerSet {
  const partner: Partner = {
    name: ENV_PARTNER_NAME,
    dataCenterUrl: config.ACRONIS_BASE_URL,
    dataCenter: dataCenterOf(config.ACRONIS_BASE_URL),
    clientId: config.ACRONIS_CLIENT_ID,
    clientSecret: config.ACRONIS_CLIENT_SECRET,
    variables: { clientId: 'ACRONIS_CLIENT_ID', clientSecret: 'ACRONIS_CLIENT_SECRET' },
    ...(config.ACRONIS_PARENT_TENANT_ID ? { parentTenantId: config.ACRONIS_PARENT_TENANT_ID } : {}),
    rateLimit: config.ACRONIS_RATE_LIMIT,
    ...(config.ACRONIS_RATE_CEILING !== undefined ? { rateCeiling: config.ACRONIS_RATE_CEILING } : {}),
  };
  return new PartnerSet([partner], ENV_PARTNER_NAME);
}
