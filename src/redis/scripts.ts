import { readFileSync } from 'node:fs';
import type { RedisConnection } from './connection.js';

/** Every Lua script of the project: its file in `lua/` and how many of its arguments are keys. */
const SCRIPTS = {
  tokenCacheAcquireOrRead: { file: 'token-cache-acquire-or-read', numberOfKeys: 3 },
  tokenCacheStoreAndRelease: { file: 'token-cache-store-and-release', numberOfKeys: 2 },
  tokenCacheFailAndRelease: { file: 'token-cache-fail-and-release', numberOfKeys: 2 },
  tokenCacheDeleteIfFingerprint: { file: 'token-cache-delete-if-fingerprint', numberOfKeys: 1 },
  requestBudgetReserve: { file: 'request-budget-reserve', numberOfKeys: 1 },
  requestBudgetPause: { file: 'request-budget-pause', numberOfKeys: 1 },
  onboardingClaim: { file: 'onboarding-claim', numberOfKeys: 4 },
  onboardingTransition: { file: 'onboarding-transition', numberOfKeys: 1 },
  webhookReplayClaim: { file: 'webhook-replay-claim', numberOfKeys: 2 },
  webhookReplayFinish: { file: 'webhook-replay-finish', numberOfKeys: 2 },
  webhookReplayRelease: { file: 'webhook-replay-release', numberOfKeys: 2 },
  metricsAddPause: { file: 'metrics-add-pause', numberOfKeys: 2 },
  setFieldIfUnchanged: { file: 'set-field-if-unchanged', numberOfKeys: 1 },
  jobDataSetIfLocked: { file: 'job-data-set-if-locked', numberOfKeys: 3 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptCommands = Record<ScriptName, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;

let sources: Record<ScriptName, string> | undefined;

/** Read once per process; the files sit beside this module in src/ and in dist/ alike. */
function loadSources(): Record<ScriptName, string> {
  sources ??= Object.fromEntries(
    Object.entries(SCRIPTS).map(([name, s]) => [
      name,
      readFileSync(new URL(`./lua/${s.file}.lua`, import.meta.url), 'utf8'),
    ]),
  ) as Record<ScriptName, string>;
  return sources;
}

/**
 * The project's scripts as commands on `redis` (ioredis `defineCommand`: EVALSHA, falling back
 * to EVAL on a fresh or flushed server). Registering on a client twice is harmless.
 */
export function withScripts<R extends RedisConnection>(redis: R): R & ScriptCommands {
  const lua = loadSources();
  for (const [name, { numberOfKeys }] of Object.entries(SCRIPTS) as [ScriptName, (typeof SCRIPTS)[ScriptName]][]) {
    if (typeof (redis as unknown as Record<string, unknown>)[name] !== 'function') {
      redis.defineCommand(name, { numberOfKeys, lua: lua[name] });
    }
  }
  return redis as R & ScriptCommands;
}
