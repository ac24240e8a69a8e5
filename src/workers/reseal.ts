import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import { scanKeys } from '../redis/scan.js';
import type { ChainData } from '../onboarding/chain.js';
import type { RedisKeys } from '../redis/keys.js';
import { withScripts } from '../redis/scripts.js';
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
  /** Every data centre's step queue (docs/partners.md): each keeps its customers' sealed values. */
  queues: readonly OnboardingQueue[];
  callbacks: CallbackQueue;
  box: SecretBox;
  /** Called between reading a stored value and writing it back: tests write there as a running step would. */
  beforeWrite?: (hashKey: string) => Promise<void>;
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

type Tally = Pick<ResealReport, 'resealed' | 'unreadable' | 'left'>;

/** One sealed value and where it belongs: resealed, or only counted, into `tally`. */
type Visit = (sealed: string | undefined, place: string, tally: Tally) => string | undefined;

/**
 * A value a step rewrote between our read and our write is read again, this many times; one
 * that keeps changing is left as the step wrote it (the counting pass reports it if it is old).
 */
const REWRITE_ATTEMPTS = 5;

export async function resealAll(deps: ResealDeps): Promise<ResealReport> {
  const report: ResealReport = { resealed: 0, tokensDropped: 0, unreadable: 0, left: 0, keyCheckRenewed: false };
  const reseal: Visit = (sealed, place, tally) => {
    if (!sealed || !deps.box.needsReseal(sealed)) return sealed;
    try {
      const fresh = deps.box.reseal(sealed, place);
      tally.resealed++;
      return fresh;
    } catch (err) {
      if (!(err instanceof SecretBoxError)) throw err;
      tally.unreadable++;
      return sealed;
    }
  };
  await walk(deps, reseal, report, true);
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
  const count: Visit = (sealed, place, tally) => ((tally.left += sealed && left(sealed, place) ? 1 : 0), sealed);
  await walk(deps, count, report, false);
  if (report.left === 0) {
    await renewKeyCheck(deps.redis, deps.keys.secretsKeyCheck, deps.box);
    report.keyCheckRenewed = true;
  }
  return report;
}

/** Every stored place a sealed value sits in: customer records, step jobs, callback jobs. */
async function walk(deps: ResealDeps, visit: Visit, report: Tally, write: boolean): Promise<void> {
  const rewrite: Rewriter = (hashKey, field, change) => rewriteField(deps, { hashKey, field, write, report }, change);
  for await (const key of scan(deps.redis, `${deps.keys.customer('')}*`, 'hash')) {
    const customerKey = key.slice(deps.keys.customer('').length);
    await rewrite(key, 'facts', (raw, tally) => {
      const facts = JSON.parse(raw) as ChainData['facts'];
      return JSON.stringify(sealedFacts(facts, customerKey, (sealed, place) => visit(sealed, place, tally)));
    });
  }
  for (const queue of deps.queues) await walkStepJobs(queue, visit, rewrite);
  for await (const id of jobIdsOf(deps.callbacks)) {
    await rewrite(deps.callbacks.toKey(id), 'data', (raw, tally) => {
      const data = JSON.parse(raw) as CallbackJob;
      const urlSealed = visit(data.urlSealed, callbackUrlPlace(data.batchId), tally) ?? data.urlSealed;
      return JSON.stringify({ ...data, urlSealed });
    });
  }
}

type Rewriter = (hashKey: string, field: string, change: (raw: string, tally: Tally) => string) => Promise<void>;

/** One data centre's step jobs: the request's password and the facts each chain carries. */
async function walkStepJobs(queue: OnboardingQueue, visit: Visit, rewrite: Rewriter): Promise<void> {
  for await (const id of jobIdsOf(queue)) {
    await rewrite(queue.toKey(id), 'data', (raw, tally) => {
      const data = JSON.parse(raw) as ChainData;
      // A lifecycle action's job (docs/lifecycle.md) carries no secret.
      if (!('request' in data)) return raw;
      const on = (sealed: string | undefined, place: string) => visit(sealed, place, tally);
      const password = on(data.request.password_sealed, customerField(data.customerKey, 'password'));
      const next: ChainData = {
        ...data,
        request: { ...data.request, ...(password ? { password_sealed: password } : {}) },
        facts: sealedFacts(data.facts, data.customerKey, on),
      };
      return JSON.stringify(next);
    });
  }
}

interface Rewrite {
  hashKey: string;
  field: string;
  write: boolean;
  report: Tally;
}

/**
 * Reads one stored JSON value, lets `change` reseal (or count) what it holds and writes it back
 * only if no one wrote it meanwhile (a step records facts and checkpoints its job while reseal
 * runs): a compare-and-set, read again on a change, so reseal never undoes a step's write.
 */
async function rewriteField(
  deps: ResealDeps,
  r: Rewrite,
  change: (raw: string, tally: Tally) => string,
): Promise<void> {
  const redis = withScripts(deps.redis);
  for (let attempt = 1; attempt <= REWRITE_ATTEMPTS; attempt++) {
    const raw = await redis.hget(r.hashKey, r.field);
    if (!raw) return;
    const tally: Tally = { resealed: 0, unreadable: 0, left: 0 };
    const next = change(raw, tally);
    const written = !r.write || tally.resealed === 0 || (await writeIfUnchanged(deps, redis, r, raw, next));
    if (written) {
      r.report.resealed += tally.resealed;
      r.report.unreadable += tally.unreadable;
      r.report.left += tally.left;
      return;
    }
  }
}

async function writeIfUnchanged(
  deps: ResealDeps,
  redis: ReturnType<typeof withScripts<RedisConnection>>,
  r: Rewrite,
  raw: string,
  next: string,
): Promise<boolean> {
  await deps.beforeWrite?.(r.hashKey);
  return (await redis.setFieldIfUnchanged(r.hashKey, r.field, raw, next)) === 1;
}

function sealedFacts(
  facts: ChainData['facts'],
  customerKey: string,
  visit: (sealed: string | undefined, place: string) => string | undefined,
): ChainData['facts'] {
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

/** The id of every job the queue keeps, in pages; each job's data is read once, by the rewrite. */
async function* jobIdsOf<T>(queue: Queue<T, unknown, string>): AsyncIterable<string> {
  const states = ['waiting', 'delayed', 'prioritized', 'waiting-children', 'active', 'failed', 'completed'] as const;
  for (const state of states) {
    for (let start = 0; ; start += 500) {
      const ids = await queue.getRanges([state], start, start + 499);
      yield* ids;
      if (ids.length < 500) break;
    }
  }
}
