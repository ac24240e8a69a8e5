import { resolve } from 'node:path';
import { config as loadDotenv } from 'dotenv';
import { z } from 'zod';
import { clusterQueuePrefix, parseRedisTarget, RedisUrlError } from './redis/target.js';
import { parseDuration } from './text/duration.js';

/**
 * The environment contract (docs/configuration.md). This is the only module that reads
 * process.env: everything else receives the parsed, frozen `Config`.
 */

// A line `FOO=` in a .env file means "not set", not "set to the empty string".
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), schema.optional());
const withDefault = <T extends z.ZodType>(schema: T, fallback: z.input<T>) =>
  z.preprocess((v) => (v === undefined || (typeof v === 'string' && v.trim() === '') ? fallback : v), schema);

/** A data centre's URL, as ACRONIS_BASE_URL and `bootstrap --base-url` take it. */
export const dataCenterUrlSchema = z
  .url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://eu2-cloud.acronis.com' })
  // The contract names the data-centre URL; people often paste the API base instead.
  .transform((u) => u.replace(/\/+$/, '').replace(/\/api\/2$/, ''));

/** A duration in words (`1d`, `12h`, `30m`, `90s`) or milliseconds; `0` turns the thing off. */
const durationOrOff = z.string().transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined || (ms !== 0 && ms < 1000)) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration of at least 1s such as 30m, 12h or 1d, or 0 for off' });
    return z.NEVER;
  }
  return ms;
});

const secretsKey = z
  .string()
  .refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v), {
    error: 'must be 32 random bytes in base64 (openssl rand -base64 32)',
  });

export const EnvSchema = z
  .object({
    /**
     * One Redis (`redis://`, `rediss://`), a Redis Cluster (`redis+cluster://host:port,…`, docs/redis-cluster.md) or a
     * primary found through Sentinel (`redis+sentinel://host:26379,…/primary-name`, docs/operations.md "Redis Sentinel").
     */
    REDIS_URL: withDefault(z.string().superRefine(checkRedisUrl), 'redis://127.0.0.1:6379'),
    QUEUE_PREFIX: withDefault(
      z.string().regex(/^[A-Za-z0-9_.{}-]+$/, 'may hold only letters, digits and _ . - { }'),
      'onboard',
    ),
    /**
     * Extension: a JSON file listing every partner account the install serves, each in its data
     * centre with its own API client (docs/partners.md); unset: the one partner of ACRONIS_BASE_URL,
     * ACRONIS_CLIENT_ID and the rest.
     */
    PARTNERS_FILE: optional(z.string().min(1)),
    ACRONIS_BASE_URL: optional(dataCenterUrlSchema),
    ACRONIS_CLIENT_ID: optional(z.string().min(1)),
    ACRONIS_CLIENT_SECRET: optional(z.string().min(1)),
    ACRONIS_PARENT_TENANT_ID: optional(z.guid({ error: 'must be a tenant UUID' })),
    ACRONIS_RATE_LIMIT: withDefault(z.coerce.number({ error: 'must be a number' }).positive('must be above 0'), 10),
    /** Extension: the highest rate the request budget climbs to when the API takes more than ACRONIS_RATE_LIMIT; unset: that limit. */
    ACRONIS_RATE_CEILING: optional(z.coerce.number({ error: 'must be a number' }).positive('must be above 0')),
    /** Extension: per-request timeout of Acronis calls, so a hung connection fails the attempt. */
    ACRONIS_TIMEOUT_MS: withDefault(z.coerce.number({ error: 'must be a number' }).int().min(100), 30_000),
    WORKER_CONCURRENCY: withDefault(z.coerce.number({ error: 'must be a number' }).int().min(1).max(1000), 16),
    /** Extension: attempts per step before a customer is marked failed at it (retryable errors only). */
    STEP_ATTEMPTS: withDefault(z.coerce.number({ error: 'must be a number' }).int().min(1).max(100), 8),
    /** Extension: first retry delay of a step; it doubles per attempt, with jitter. */
    STEP_BACKOFF_MS: withDefault(z.coerce.number({ error: 'must be a number' }).int().min(0), 1000),
    /** Extension: a step job's lock; a worker that dies is noticed after about this long and its jobs run elsewhere. */
    JOB_LOCK_MS: withDefault(z.coerce.number({ error: 'must be a number' }).int().min(1000), 30_000),
    /** Extension: how long `work` lets in-flight steps finish after SIGTERM/SIGINT before it stops them. */
    SHUTDOWN_TIMEOUT_MS: withDefault(z.coerce.number({ error: 'must be a number' }).int().min(0), 25_000),
    ONBOARDING_PROFILE: optional(z.string().min(1)),
    /** Extension: days between an offboard's disable and its delete (docs/lifecycle.md); fractions allowed. */
    OFFBOARD_GRACE_DAYS: withDefault(z.coerce.number({ error: 'must be a number' }).min(0, 'must be ≥ 0'), 30),
    /**
     * Extension: how often `work` sweeps every customer against its profile (docs/reconcile.md
     * "Scheduled sweeps"), in milliseconds once parsed; 0: no scheduled sweep.
     */
    RECONCILE_EVERY: withDefault(durationOrOff, '1d'),
    WEBHOOK_SECRET: optional(z.string().min(16, 'must be at least 16 characters')),
    /**
     * Extension: the secret being retired during a rotation. The webhook accepts signatures made
     * with either; batch callbacks are signed with both (two `v1` values).
     */
    WEBHOOK_SECRET_PREVIOUS: optional(z.string().min(16, 'must be at least 16 characters')),
    /**
     * Extension: signs batch callbacks. Its own secret, so a captured callback is no webhook request
     * and the other way round; without it `callback_url` is refused (400).
     */
    CALLBACK_SECRET: optional(z.string().min(16, 'must be at least 16 characters')),
    /** Extension: while rotating CALLBACK_SECRET, the old one, as a second signature on callbacks. */
    CALLBACK_SECRET_PREVIOUS: optional(z.string().min(16, 'must be at least 16 characters')),
    /** Extension: callback hosts (names or IPs, comma-separated) that may be internal addresses. */
    CALLBACK_ALLOWED_HOSTS: withDefault(
      z.string().transform((v) =>
        v
          .split(',')
          .map((h) =>
            h
              .trim()
              .toLowerCase()
              .replace(/^\[(.*)\]$/, '$1'),
          )
          .filter((h) => h !== ''),
      ),
      '',
    ),
    /** Extension: plain http to the CALLBACK_ALLOWED_HOSTS (never to others). */
    CALLBACK_ALLOW_HTTP: withDefault(z.enum(['true', 'false'], { error: 'must be true or false' }), 'false').transform(
      (v) => v === 'true',
    ),
    /** Extension: a directory of source files, `<name>.json` each (docs/sources.md); unset: no sources. */
    SOURCES_DIR: optional(z.string().min(1)),
    DASHBOARD_USER: optional(z.string().min(1)),
    DASHBOARD_PASSWORD: optional(z.string().min(8, 'must be at least 8 characters')),
    /** Extension: lets a scraper read GET /metrics with `Authorization: Bearer <token>` instead of signing in. */
    METRICS_TOKEN: optional(z.string().min(16, 'must be at least 16 characters')),
    SECRETS_KEY: optional(secretsKey),
    /** Extension: the key being retired during a rotation: still opens what it sealed; nothing new is sealed with it. */
    SECRETS_KEY_PREVIOUS: optional(secretsKey),
    PORT: withDefault(z.coerce.number({ error: 'must be a number' }).int().min(0).max(65535), 3000),
    HOST: withDefault(z.string().min(1), '127.0.0.1'),
    LOG_LEVEL: withDefault(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info'),
  })
  .superRefine((env, ctx) => {
    const webhook = [env.WEBHOOK_SECRET, env.WEBHOOK_SECRET_PREVIOUS];
    for (const name of ['CALLBACK_SECRET', 'CALLBACK_SECRET_PREVIOUS'] as const)
      if (env[name] !== undefined && webhook.includes(env[name]))
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'must differ from WEBHOOK_SECRET and WEBHOOK_SECRET_PREVIOUS',
        });
  });

function checkRedisUrl(url: string, ctx: z.RefinementCtx): void {
  try {
    parseRedisTarget(url);
  } catch (err) {
    if (!(err instanceof RedisUrlError)) throw err;
    ctx.addIssue({ code: 'custom', message: err.message });
  }
}

export type Config = Readonly<z.infer<typeof EnvSchema>>;
export type ConfigKey = keyof Config;

export class ConfigError extends Error {
  constructor(readonly problems: readonly { variable: string; reason: string }[]) {
    super(
      `Configuration is not usable:\n${problems.map((p) => `  ${p.variable}: ${p.reason}`).join('\n')}\n` +
        whereToSetThem(),
    );
    this.name = 'ConfigError';
  }
}

/** The `.env` this process looked for (the working directory's) and whether it was there; unset when none was read. */
let envFile: { path: string; found: boolean } | undefined;

/** The last line of a ConfigError: where the variables go, with the `.env` looked for, and how to get one. */
function whereToSetThem(): string {
  if (!envFile) return 'Set these in the environment or in a .env file (see docs/configuration.md).';
  if (envFile.found) return `Set these in the environment or in ${envFile.path} (see docs/configuration.md).`;
  return (
    `Set these in the environment or in a .env file: there is no ${envFile.path}. ` +
    '`acronis-onboard bootstrap` writes one (docs/commands.md#bootstrap; every variable: docs/configuration.md).'
  );
}

/** Parses the environment (after loading .env) into a frozen Config, or throws a ConfigError naming each bad variable. */
export function loadConfig(env: Record<string, string | undefined> = readProcessEnv()): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? '(environment)'),
        reason: issue.message,
      })),
    );
  }
  return Object.freeze(withClusterPrefix(parsed.data));
}

/**
 * On a cluster every key must share one hash tag, so QUEUE_PREFIX gets one (`{onboard}`) unless
 * it has its own; this is the prefix every module sees. A single Redis (through Sentinel too) keeps the prefix as set.
 */
function withClusterPrefix<C extends { REDIS_URL: string; QUEUE_PREFIX: string }>(config: C): C {
  if (parseRedisTarget(config.REDIS_URL).kind !== 'cluster') return config;
  return { ...config, QUEUE_PREFIX: clusterQueuePrefix(config.QUEUE_PREFIX) };
}

/** Commands state which optional variables they need; a missing one stops them with its name. */
export function requireConfig<K extends ConfigKey>(
  config: Config,
  keys: readonly K[],
  purpose: string,
): Config & { readonly [P in K]-?: NonNullable<Config[P]> } {
  const missing = keys.filter((k) => config[k] === undefined);
  if (missing.length > 0) {
    throw new ConfigError(missing.map((k) => ({ variable: k, reason: `is required ${purpose}` })));
  }
  return config as Config & { readonly [P in K]-?: NonNullable<Config[P]> };
}

/**
 * The environment variables source and partners files name for their secrets (docs/sources.md,
 * docs/partners.md): read here, the
 * one module that reads the environment, by the names the files give; missing ones are left out.
 */
export function readNamedSecrets(
  names: readonly string[],
  env: Record<string, string | undefined> = process.env,
): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}

function readProcessEnv(): Record<string, string | undefined> {
  const path = resolve('.env');
  const { error } = loadDotenv({ path, quiet: true });
  envFile = { path, found: (error as NodeJS.ErrnoException | undefined)?.code !== 'ENOENT' };
  return process.env;
}
