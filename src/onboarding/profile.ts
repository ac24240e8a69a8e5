import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { MAX_REGISTRATION_TOKEN_SECONDS } from '../acronis/registration-tokens.js';
import { userRoles } from '../acronis/users.js';

/**
 * The MSP's "standard rule" for a new customer (DESIGN.md "Profile"): which edition and
 * items, quotas, the one storage, pricing, roles, activation and the agent token lifetime.
 * Strict: a misspelt key is an error naming it, not a silently ignored setting.
 */

/** Current and legacy Cyber Protection editions (ACRONIS-API.md §4.5). */
export const EDITIONS = [
  'pck_per_workload', 'pck_per_gigabyte', 'per_workload', 'per_gigabyte', 'standard', 'advanced',
  'disaster_recovery', 'cyber_protect_std', 'cyber_protect_adv', 'cyber_protect_dre',
] as const;

const quotaSchema = z.strictObject({
  value: z.number().int().min(0).nullable(),
  overage: z.number().int().min(0).nullable().default(null),
});

export const profileSchema = z
  .strictObject({
    name: z.string().trim().min(1),
    /** The first is a customer's edition unless its request names another: a customer holds exactly one. */
    editions: z.array(z.enum(EDITIONS)).min(1),
    offering_items: z
      .strictObject({
        include: z.array(z.string().trim().min(1)).min(1).optional(),
        quotas: z.record(z.string().min(1), quotaSchema).optional(),
      })
      .default({}),
    storage: z.strictObject({ infra_id: z.guid().nullable() }).default({ infra_id: null }),
    template_tenant_id: z.guid().nullable().default(null),
    pricing_mode: z.enum(['trial', 'production']).default('trial'),
    roles: z.array(z.enum(userRoles)).min(1).default(['company_admin']),
    activation: z.enum(['email', 'password', 'none']).default('email'),
    agent_token: z
      .strictObject({ expires_in: z.number().int().min(1).max(MAX_REGISTRATION_TOKEN_SECONDS) })
      .default({ expires_in: 604_800 }),
  })
  .superRefine((profile, ctx) => {
    const include = profile.offering_items.include;
    if (!include) return;
    for (const key of Object.keys(profile.offering_items.quotas ?? {})) {
      if (!include.includes(key)) {
        ctx.addIssue({ code: 'custom', path: ['offering_items', 'quotas', key], message: 'is not in offering_items.include' });
      }
    }
  });
export type Profile = z.infer<typeof profileSchema>;

export class ProfileError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly source: string,
  ) {
    super(`profile ${source}: ${field}: ${reason}`);
    this.name = 'ProfileError';
  }
}

export function parseProfile(value: unknown, source: string): Profile {
  const parsed = profileSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.length ? issue.path.join('.') : '(profile)';
  const reason = issue?.code === 'unrecognized_keys' ? `unknown key(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
  throw new ProfileError(field, reason, source);
}

/** profiles/standard.json is the one source: the file users copy and the built-in default. */
export const STANDARD_PROFILE_PATH = new URL('../../profiles/standard.json', import.meta.url);
export const STANDARD_PROFILE: Profile = parseProfile(JSON.parse(readFileSync(STANDARD_PROFILE_PATH, 'utf8')), 'built-in standard');

/** ONBOARDING_PROFILE, or the built-in standard profile when unset. */
export async function loadProfile(path?: string): Promise<Profile> {
  if (path === undefined) return STANDARD_PROFILE;
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new ProfileError('(file)', `cannot be read: ${(cause as Error).message}`, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new ProfileError('(file)', `is not JSON: ${(cause as Error).message}`, path);
  }
  return parseProfile(json, path);
}

/** The one edition a customer gets: its request's, else the profile's first. */
export function profileEditionFor(profile: Profile, requested?: string | null): string {
  return requested ?? (profile.editions[0] as string);
}
