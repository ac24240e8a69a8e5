import { resolve } from 'node:path';
import type { RunningSimulator } from '../simulator/index.js';
import { writeOwnerOnly } from './owner-only-file.js';

/** One partner of the file, in the shape PARTNERS_FILE takes (PARTNERS_FILE). */
interface SimPartnerEntry {
  name: string;
  base_url: string;
  client_id_env: string;
  client_secret_env: string;
  rate_limit?: number;
}

export interface SimPartnersFile {
  default: string;
  partners: SimPartnerEntry[];
}

/** The variables of data centre `dc` (1-based): DC1_ACRONIS_CLIENT_ID, DC1_ACRONIS_CLIENT_SECRET. */
function envNames(dc: number): { id: string; secret: string } {
  return { id: `DC${dc}_ACRONIS_CLIENT_ID`, secret: `DC${dc}_ACRONIS_CLIENT_SECRET` };
}

/**
 * One partner per running data centre, `dc1` the default. The secrets stay out: the file names
 * the variables that hold them, as a real partners file does. A data centre without a rate
 * limit states none, so the install's ACRONIS_RATE_LIMIT applies to it.
 */
export function simPartnersFile(
  sims: readonly RunningSimulator[],
  rateLimits: readonly (number | null)[],
): SimPartnersFile {
  return {
    default: 'dc1',
    partners: sims.map((sim, index) => {
      const names = envNames(index + 1);
      const rateLimit = rateLimits[index] ?? null;
      return {
        name: `dc${index + 1}`,
        base_url: sim.url,
        client_id_env: names.id,
        client_secret_env: names.secret,
        ...(rateLimit !== null ? { rate_limit: rateLimit } : {}),
      };
    }),
  };
}

/** The .env lines that go with the file: where it is, and each data centre's (fake) credentials. */
export function simPartnersEnvLines(path: string, sims: readonly RunningSimulator[]): string[] {
  return [
    `PARTNERS_FILE=${path}`,
    ...sims.flatMap((sim, index) => {
      const names = envNames(index + 1);
      return [`${names.id}=${sim.seed.clientId}`, `${names.secret}=${sim.seed.clientSecret}`];
    }),
  ];
}

/** Writes the file (owner-only, as every file the CLI writes); returns its absolute path. */
export async function writeSimPartnersFile(
  path: string,
  sims: readonly RunningSimulator[],
  rateLimits: readonly (number | null)[],
): Promise<string> {
  const absolute = resolve(path);
  await writeOwnerOnly(absolute, `${JSON.stringify(simPartnersFile(sims, rateLimits), null, 2)}\n`);
  return absolute;
}
