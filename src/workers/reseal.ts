import type { Job, Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { scanKeys } from '../redis/scan.js';
import type { ChainData } from '../onboarding/chain.js';
import type { RedisKeys } from '../redis/keys.js';
import { renewKeyCheck } from '../secrets/key-check.js';
import { customerField, keyIdOf, SecretBoxError, type SecretBox } from '../secrets/secret-box.js';
import { callbackUrlPlace, type CallbackJob, type CallbackQueue } from './callback-queue.js';
import type { OnboardingQueue } from './queue.js';

/**
 * `acronis-onboard reseal` (docs/security.md "Rotating SECRETS_KEY"): every sealed value the install keeps
 * — customer records, step jobs, callback jobs — sealed again with the current SECRETS_KEY; a
 * cached access token sealed with another key is dropped (the next call issues one). A second
 * pass counts what is still under another key (a step running meanwhile may have written an
 * old value back); when nothing is, the key check is renewed so that SECRETS_KEY_PREVIOUS can go.
 */
export interface ResealDeps {
  redis: RedisConnection;
  keys: RedisKeys;
  queue: OnboardingQueue;
  callbacks: CallbackQueue;
  box: SecretBox;
}

export interface ResealReport {
  /** Values sealed again with the current key. */
  resealed: number;
  /** Cached access tokens dropped. */
  tokensDropped: number;
  /** Values no key of this process opens (neither SECRETS_KEY nor SECRETS_KEY_PREVIOUS). */
  unreadable: number;
  /** Values still under the previous key after the pass. */
  left: number;
  /** The key check now names SECRETS_KEY only. */
  keyCheckRenewed: boolean;
}

/** One sealed value and where it belongs; `fix` reseals it, or only counts it. */
type Visit = (sealed: string | undefined, place: string) => string | undefined;

export async function resealAll(deps: ResealDeps): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, tokensDropped: 0, unreadable: 0, left: 0, keyCheckRenewed: false };
  await walk(
    deps,
    (sealed, place) => {
      if (!sealed || !deps.box.needsReseal(sealed)) return sealed;
      try {
        const fresh = deps.box.reseal(sealed, place);
        report.resealed++;
        return fresh;
      } catch (err) {
        if (!(err instanceof SecretBoxError)) throw err;
        report.unreadable++;
        return sealed;
      }
    },
    true,
  );
  report.tokensDropped = await dropOldTokens(deps);
  // Left: what the previous key still opens (an altered value is unreadable, not left).
  const left = (sealed: string, place: string) => {
    if (!deps.box.needsReseal(sealed) || !deps.box.keyIds.includes(keyIdOf(sealed) ?? '')) return false;
    try {
      return deps.box.open(sealed, place) !== undefined;
    } catch {
      return false;
    }
  };
  await walk(deps, (sealed, place) => ((report.left += sealed && left(sealed, place) ? 1 : 0), sealed), false);
  if (report.left === 0) {
    await renewKeyCheck(deps.redis, deps.keys.secretsKeyCheck, deps.box);
    report.keyCheckRenewed = true;
  }
  return report;
}

async function walk(deps: ResealDeps, visit: Visit, write: boolean): Promise<void> {
  for await (const key of scan(deps.redis, `${deps.keys.customer('')}*`, 'hash')) {
    const customerKey = key.slice(deps.keys.customer('').length);
    const raw = await deps.redis.hget(key, 'facts');
    if (!raw) continue;
    const facts = JSON.parse(raw) as ChainData['facts'];
    const next = sealedFacts(facts, customerKey, visit);
    if (write && JSON.stringify(next) !== raw) await deps.redis.hset(key, 'facts', JSON.stringify(next));
  }
  for await (const job of jobsOf(deps.queue)) {
    const data = job.data;
    const password = visit(data.request.password_sealed, customerField(data.customerKey, 'password'));
    const next: ChainData = {
      ...data,
      request: { ...data.request, ...(password ? { password_sealed: password } : {}) },
      facts: sealedFacts(data.facts, data.customerKey, visit),
    };
    if (write && JSON.stringify(next) !== JSON.stringify(data)) await job.updateData(next).catch(() => undefined);
  }
  for await (const job of jobsOf(deps.callbacks) as AsyncIterable<Job<CallbackJob>>) {
    const urlSealed = visit(job.data.urlSealed, callbackUrlPlace(job.data.batchId)) ?? job.data.urlSealed;
    if (write && urlSealed !== job.data.urlSealed)
      await job.updateData({ ...job.data, urlSealed }).catch(() => undefined);
  }
}

function sealedFacts(facts: ChainData['facts'], customerKey: string, visit: Visit): ChainData['facts'] {
  const passwordSealed = visit(facts.passwordSealed, customerField(customerKey, 'password'));
  const tokenSealed = visit(facts.tokenSealed, customerField(customerKey, 'registration_token'));
  return { ...facts, ...(passwordSealed ? { passwordSealed } : {}), ...(tokenSealed ? { tokenSealed } : {}) };
}

/** The token cache's hashes (not its locks) whose token another key sealed. */
async function dropOldTokens(deps: ResealDeps): Promise<number> {
  let dropped = 0;
  for await (const key of scan(deps.redis, deps.keys.tokenCachePattern, 'hash')) {
    const sealed = await deps.redis.hget(key, 'sealed');
    if (sealed && deps.box.needsReseal(sealed)) dropped += await deps.redis.del(key);
  }
  return dropped;
}

async function* scan(redis: RedisConnection, pattern: string, type: string): AsyncIterable<string> {
  for await (const keys of scanKeys(redis, pattern))
    for (const key of keys) if ((await redis.type(key)) === type) yield key;
}

/** Every job the queue keeps, in pages. */
async function* jobsOf<T>(queue: Queue<T, unknown, string>): AsyncIterable<Job<T, unknown, string>> {
  const states = ['waiting', 'delayed', 'prioritized', 'waiting-children', 'active', 'failed', 'completed'] as const;
  for (const state of states) {
    for (let start = 0; ; start += 500) {
      const jobs = await queue.getJobs([state], start, start + 499);
      yield* jobs.filter((job) => job !== undefined);
      if (jobs.length < 500) break;
    }
  }
}
