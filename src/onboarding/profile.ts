import { readJsonFile } from '../text/json-file.js';
import { z } from 'zod';
import { MAX_REGISTRATION_TOKEN_SECONDS } from '../acronis/registration-tokens.js';
import { userRoles, type UserRole } from '../acronis/users.js';

/**
 * The MSP's "standard rule" for a new customer (docs/profiles.md): which edition and
 * items, quotas, the one storage, pricing, roles, activation and the agent token lifetime.
 * Strict: a misspelt key is an error naming it, not a silently ignored setting.
 */

/**
 * Editions `available_for_child` accepts (docs/acronis-api.md §4.5): current, File Sync & Share
 * and legacy. `mixed` is left out: it only appears on aggregated usages.
 */
export const EDITIONS = [
  'pck_per_workload',
  'pck_per_gigabyte',
  'fss_legacy',
  'fss_per_gigabyte',
  'fss_per_user',
  'per_workload',
  'per_gigabyte',
  'standard',
  'advanced',
  'disaster_recovery',
  'cyber_protect_std',
  'cyber_protect_adv',
  'cyber_protect_dre',
] as const;
export type Edition = (typeof EDITIONS)[number];

/**
 * Item-name prefixes of the editions (docs/acronis-api.md §4.5), longest first. `usage_name` is
 * the name without it, which lets a quota keyed `pw_base_workstations` be recognised as the
 * include entry `workstations` before any catalogue is at hand.
 */
const EDITION_PREFIXES = [
  'pw_p_ess_',
  'pw_p_adv_',
  'pw_base_',
  'pg_base_',
  'pu_base_',
  'p_adv_',
  'p_dre_',
  'pw_p_',
  'adv_',
  'dre_',
  'pw_',
  'pg_',
  'p_',
];

function withoutEditionPrefix(name: string): string {
  const prefix = EDITION_PREFIXES.find((p) => name.startsWith(p) && name.length > p.length);
  return prefix ? name.slice(prefix.length) : name;
}

/**
 * Whether a quota key names an item of the profile's `include` (every item when there is no
 * include), by name or usage_name, before any catalogue is at hand.
 */
export function itemInInclude(profile: Pick<Profile, 'offering_items'>, key: string): boolean {
  const include = profile.offering_items.include;
  return !include || include.map(withoutEditionPrefix).includes(withoutEditionPrefix(key));
}

const count = z
  .number({ error: 'must be a whole number ≥ 0 or null' })
  .int('must be a whole number')
  .min(0, 'must be ≥ 0');
const uuid = z.guid({ error: 'must be a UUID' });

/** docs/acronis-api.md §4.2: `value` null = unlimited, 0 blocks the item; `overage` set makes the quota hard. */
const quotaSchema = z
  .strictObject({
    value: count.nullable(),
    overage: count.nullable().default(null),
  })
  .refine((q) => q.value !== null || q.overage === null, {
    error: 'overage needs a value: value null means unlimited, which has no overage',
    path: ['overage'],
  });

const unique = <T>(list: readonly T[]) => new Set(list).size === list.length;

export const profileSchema = z
  .strictObject({
    name: z.string({ error: 'must be a text' }).trim().min(1, 'must not be empty'),
    /** The first is a customer's edition unless its request names another: a customer holds exactly one. */
    editions: z
      .array(z.enum(EDITIONS, { error: `must be one of ${EDITIONS.join(', ')}` }), {
        error: 'must be a list of editions',
      })
      .min(1, 'must list at least one edition (the first is the default)')
      .refine(unique, 'lists an edition twice'),
    offering_items: z
      .strictObject({
        include: z
          .array(z.string({ error: 'must be an item name or usage_name' }).trim().min(1, 'must not be empty'))
          .min(1, 'must list at least one item; leave include out to enable every item')
          .optional(),
        quotas: z.record(z.string().trim().min(1, 'must not be empty'), quotaSchema).optional(),
      })
      .default(() => ({})),
    storage: z.strictObject({ infra_id: uuid.nullable() }).default(() => ({ infra_id: null })),
    template_tenant_id: uuid.nullable().default(null),
    pricing_mode: z.enum(['trial', 'production'], { error: 'must be trial or production' }).default('trial'),
    roles: z
      .array(z.enum(userRoles, { error: `must be one of ${userRoles.join(', ')}` }))
      .min(1, 'must list at least one role')
      .refine(unique, 'lists a role twice')
      .default((): UserRole[] => ['company_admin']),
    activation: z.enum(['email', 'password', 'none'], { error: 'must be email, password or none' }).default('email'),
    /** The tenant's two-factor setting (PUT /tenants/{id}/mfa/status): applied by `change`; left as it is when absent. */
    mfa: z.boolean({ error: 'must be true or false' }).optional(),
    agent_token: z
      .strictObject({
        expires_in: z
          .number({ error: 'must be a number of seconds' })
          .int('must be a whole number of seconds')
          .min(1, 'must be at least 1 second')
          .max(MAX_REGISTRATION_TOKEN_SECONDS, `must be at most one year (${MAX_REGISTRATION_TOKEN_SECONDS} seconds)`),
      })
      .default(() => ({ expires_in: 604_800 })),
  })
  .superRefine((profile, ctx) => {
    const include = profile.offering_items.include;
    if (!include) return;
    const included = new Set(include.map(withoutEditionPrefix));
    for (const key of Object.keys(profile.offering_items.quotas ?? {})) {
      if (!included.has(withoutEditionPrefix(key))) {
        ctx.addIssue({
          code: 'custom',
          path: ['offering_items', 'quotas', key],
          message: 'is not in offering_items.include',
        });
      }
    }
  });
export type Profile = z.infer<typeof profileSchema>;

export interface ProfileProblem {
  /** The profile field, e.g. `offering_items.quotas.foo`; `(file)` for the file as a whole. */
  field: string;
  reason: string;
}

/** A profile that cannot be used; the message names the file (or `built-in`), the field and what to change. */
export class ProfileError extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
    readonly source: string,
    /** Further problems found in the same profile, beyond the first. */
    readonly more: readonly ProfileProblem[] = [],
  ) {
    super([{ field, reason }, ...more].map((p) => `profile ${source}: ${p.field}: ${p.reason}`).join('\n'));
    this.name = 'ProfileError';
  }

  get problems(): ProfileProblem[] {
    return [{ field: this.field, reason: this.reason }, ...this.more];
  }
}

function fieldOf(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(profile)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let value = root;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function problemsOf(error: z.ZodError, input: unknown): ProfileProblem[] {
  return error.issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: fieldOf([...issue.path, key]),
        reason: 'is not a profile setting (misspelt?)',
      }));
    }
    if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined)
      return [{ field: fieldOf(issue.path), reason: 'is required' }];
    return [{ field: fieldOf(issue.path), reason: issue.message }];
  });
}

/** Validates a profile; `source` (file path or `built-in`) goes into the error message. */
export function parseProfile(value: unknown, source: string): Profile {
  const parsed = profileSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const [first, ...more] = problemsOf(parsed.error, value);
  throw new ProfileError(first?.field ?? '(profile)', first?.reason ?? 'is not a valid profile', source, more);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * The built-in standard profile, the example in docs/profiles.md. `profiles/standard.json` is the same
 * content for people to copy (a test holds the two equal); keeping it here spares the
 * package a file read at import.
 */
export const STANDARD_PROFILE: Profile = deepFreeze(
  parseProfile(
    {
      name: 'standard',
      editions: ['pck_per_workload'],
      offering_items: {
        include: ['workstations', 'servers', 'storage'],
        quotas: { workstations: { value: 50, overage: 5 } },
      },
      storage: { infra_id: null },
      template_tenant_id: null,
      pricing_mode: 'trial',
      roles: ['company_admin'],
      activation: 'email',
      agent_token: { expires_in: 604_800 },
    },
    'built-in',
  ),
);

/** The profile at `path` (ONBOARDING_PROFILE), or the built-in standard profile when unset. */
export async function loadProfile(path?: string): Promise<Profile> {
  if (path === undefined) return STANDARD_PROFILE;
  const read = await readJsonFile(path);
  if ('problem' in read) throw new ProfileError('(file)', read.problem, path);
  return parseProfile(read.json, path);
}

/** The one edition a customer gets: its request's, else the profile's first. */
export function profileEditionFor(profile: Profile, requested?: string | null): string {
  // The schema requires at least one edition.
  return requested ? requested : (profile.editions[0] as Edition);
}
