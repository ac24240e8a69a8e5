import { readFileSync } from 'node:fs';
import type { RedisConnection } from './connection.js';

/** Functions several scripts share, put before each of them (Redis runs every script on its own). */
const ONBOARDING_INDEX = 'onboarding-index';

/**
 * Every Lua script of the project: its file in `lua/`, how many of its arguments are keys, and
 * the shared file it builds on, if any.
 */
interface ScriptSpec {
  file: string;
  numberOfKeys: number;
  prelude?: string;
}

const SCRIPTS = {
  tokenCacheAcquireOrRead: { file: 'token-cache-acquire-or-read', numberOfKeys: 3 },
  tokenCacheStoreAndRelease: { file: 'token-cache-store-and-release', numberOfKeys: 2 },
  tokenCacheFailAndRelease: { file: 'token-cache-fail-and-release', numberOfKeys: 2 },
  tokenCacheDeleteIfFingerprint: { file: 'token-cache-delete-if-fingerprint', numberOfKeys: 1 },
  requestBudgetReserve: { file: 'request-budget-reserve', numberOfKeys: 2 },
  requestBudgetRefusal: { file: 'request-budget-refusal', numberOfKeys: 3 },
  requestBudgetDecide: { file: 'request-budget-decide', numberOfKeys: 1 },
  requestBudgetSpace: { file: 'request-budget-space', numberOfKeys: 1 },
  onboardingClaim: { file: 'onboarding-claim', numberOfKeys: 5, prelude: ONBOARDING_INDEX },
  onboardingTransition: { file: 'onboarding-transition', numberOfKeys: 1, prelude: ONBOARDING_INDEX },
  onboardingSetFacts: { file: 'onboarding-set-facts', numberOfKeys: 1, prelude: ONBOARDING_INDEX },
  onboardingIndexBatch: { file: 'onboarding-index-batch', numberOfKeys: 3, prelude: ONBOARDING_INDEX },
  onboardingSearch: { file: 'onboarding-search', numberOfKeys: 2 },
  webhookReplayClaim: { file: 'webhook-replay-claim', numberOfKeys: 2 },
  webhookReplayFinish: { file: 'webhook-replay-finish', numberOfKeys: 2 },
  webhookReplayRelease: { file: 'webhook-replay-release', numberOfKeys: 2 },
  metricsAddPause: { file: 'metrics-add-pause', numberOfKeys: 2 },
  setFieldIfUnchanged: { file: 'set-field-if-unchanged', numberOfKeys: 1 },
  jobDataSetIfLocked: { file: 'job-data-set-if-locked', numberOfKeys: 3 },
  actionTurn: { file: 'action-turn', numberOfKeys: 2 },
  actionTransition: { file: 'action-transition', numberOfKeys: 1 },
  sourceEventRecord: { file: 'source-event-record', numberOfKeys: 3 },
  sourceEventSettle: { file: 'source-event-settle', numberOfKeys: 2 },
  leaseRenew: { file: 'lease-renew', numberOfKeys: 1 },
  leaseRelease: { file: 'lease-release', numberOfKeys: 1 },
} as const satisfies Record<string, ScriptSpec>;

export type ScriptName = keyof typeof SCRIPTS;
export type ScriptCommands = Record<ScriptName, (...keysAndArgs: (string | number)[]) => Promise<unknown>>;

let sources: Record<ScriptName, string> | undefined;

/** Read once per process; the files sit beside this module in src/ and in dist/ alike. */
function loadSources(): Record<ScriptName, string> {
  const read = (file: string) => readFileSync(new URL(`./lua/${file}.lua`, import.meta.url), 'utf8');
  sources ??= Object.fromEntries(
    Object.entries(SCRIPTS as Record<ScriptName, ScriptSpec>).map(([name, s]) => [
      name,
      s.prelude ? `${read(s.prelude)}\n${read(s.file)}` : read(s.file),
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
