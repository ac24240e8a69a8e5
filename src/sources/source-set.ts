import type { Logger } from '../logger.js';
import type { Profile } from '../onboarding/profile.js';
import { RequestBudget } from '../acronis/request-budget.js';
import type { RedisConnection } from '../redis/connection.js';
import type { RedisKeys } from '../redis/keys.js';
import type { KindContext, SourceKind } from './kind.js';
import { SOURCE_KINDS } from './kinds.js';
import { SourceFileError, type SourceConfig } from './source-file.js';

/**
 * The sources of a running server: each source file with its kind, its secrets resolved, its
 * profile, and the rate limit its API calls go through (a request budget of its own, shared by
 * every process through Redis). The intake route and jobs take a source from here by name.
 */
export interface Source {
  config: SourceConfig;
  kind: SourceKind<unknown>;
  profile: Profile;
  /** Where the profile came from, for messages. */
  profileSource: string;
  /** A context for one call; `signal` stops a wait for the rate limit. */
  context(logger: Logger, signal?: AbortSignal): KindContext<unknown>;
}

export type SourceSet = ReadonlyMap<string, Source>;

export interface SourceSetDeps {
  redis: RedisConnection;
  keys: RedisKeys;
  logger: Logger;
  /** The values of the variables the files name (missing ones absent). */
  secrets(names: readonly string[]): Record<string, string>;
  /** The profile a source file names, or the producer's when it names none. */
  profileFor(config: SourceConfig): Promise<{ profile: Profile; profileSource: string }>;
}

export async function openSources(configs: readonly SourceConfig[], deps: SourceSetDeps): Promise<SourceSet> {
  const sources = new Map<string, Source>();
  for (const config of configs) sources.set(config.name, await openSource(config, deps));
  return sources;
}

async function openSource(config: SourceConfig, deps: SourceSetDeps): Promise<Source> {
  const kind = SOURCE_KINDS[config.kind];
  const names = kind.secretNames(config.settings);
  const secrets = Object.freeze(deps.secrets(names));
  const missing = names.find((n) => secrets[n] === undefined);
  if (missing !== undefined)
    throw new SourceFileError(config.file, 'settings', `names the environment variable ${missing}, which is not set`);
  const unusable = kind.checkSecrets?.(config.settings, secrets);
  if (unusable) throw new SourceFileError(config.file, 'settings', unusable);
  const { profile, profileSource } = await deps.profileFor(config);
  const budget = new RequestBudget({
    redis: deps.redis,
    keys: deps.keys.source(config.name).budget,
    perSecond: config.rate_limit.per_second,
    logger: deps.logger,
  });
  return {
    config,
    kind,
    profile,
    profileSource,
    context: (logger, signal) => ({
      source: config.name,
      settings: config.settings,
      secrets,
      acquire: async () => {
        await budget.acquire(signal);
      },
      logger: logger.child({ source: config.name }),
      ...(signal ? { signal } : {}),
    }),
  };
}
