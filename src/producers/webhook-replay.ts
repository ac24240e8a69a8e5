import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { defineScripts, type ScriptCommands } from '../redis-scripts.js';

/**
 * What the webhook remembers so a delivery is acted on once (BULLMQ-NOTES.md §5.1: a
 * timestamp window plus a store of seen ids):
 *
 *   P:webhook:delivery:<X-Delivery-Id>   the sender's delivery id, for DELIVERY_TTL_SEC
 *   P:webhook:signed:<sha256(t.body)>    the signed content, for as long as its signature is valid
 *
 * The second key catches a captured request sent again inside the 5-minute window without a
 * delivery id, or with another one (the id is not signed). It is keyed by the signed content,
 * not the header: a header with one `v1` value dropped or added is the same request.
 *
 * Each value is JSON: `{state:"pending", token, body}` while the request is being enqueued,
 * then `{state:"done", batch_id, accepted, duplicates, body}`. A request claims every key it
 * has at once (one Lua call); a second request finding `pending` waits or is told 409, one
 * finding `done` is answered with the original batch. An enqueue that fails releases its
 * claim so the sender's retry goes through; a process that dies mid-enqueue leaves `pending`
 * for PENDING_TTL_MS only.
 */

/** How long a delivery id is remembered: longer than any sender retries (GitHub: 3 days; Stripe: 3 days). */
export const DELIVERY_TTL_SEC = 7 * 24 * 3600;
/** Longer than any enqueue takes (1,000 customers take a few seconds); a crashed one blocks retries this long at most. */
export const PENDING_TTL_MS = 60_000;

export interface ReplayOutcome {
  batch_id: string;
  accepted: number;
  duplicates: number;
}

export type ReplayRecord =
  { state: 'pending'; token: string; body: string } | ({ state: 'done'; body: string } & ReplayOutcome);

export type ClaimResult =
  | { kind: 'claimed'; claim: ReplayClaim }
  | { kind: 'pending' }
  | { kind: 'done'; record: Extract<ReplayRecord, { state: 'done' }>; sameBody: boolean };

export interface ReplayClaim {
  keys: string[];
  pending: string;
  bodyHash: string;
  ttls: number[];
}

// Every script takes KEYS[1] = the signed key, KEYS[2] = the delivery key, and ARGV[1] = how
// many of them are in use (1 when the request has no delivery id: KEYS[2] then repeats KEYS[1]).

// ARGV[2]: the pending record, ARGV[3]: its TTL (ms), ARGV[4], ARGV[5]: each key's TTL once done
// (s). A done record anywhere wins (and is copied to a key that lacks it, so a delivery id sent
// with a replayed signature is remembered too); else a pending one; else every key is claimed.
const CLAIM = `
local n = tonumber(ARGV[1])
local found
for i = 1, n do
  local value = redis.call('GET', KEYS[i])
  if value then
    if cjson.decode(value).state == 'done' then
      for j = 1, n do redis.call('SET', KEYS[j], value, 'EX', ARGV[3 + j], 'NX') end
      return value
    end
    found = found or value
  end
end
if found then return found end
for i = 1, n do redis.call('SET', KEYS[i], ARGV[2], 'PX', ARGV[3]) end
return false
`;

// ARGV[2]: our pending record, ARGV[3]: the done record, ARGV[4], ARGV[5]: TTLs (s). A key whose
// pending claim expired meanwhile is still set, unless another request claimed it since.
const FINISH = `
for i = 1, tonumber(ARGV[1]) do
  local value = redis.call('GET', KEYS[i])
  if not value or value == ARGV[2] then redis.call('SET', KEYS[i], ARGV[3], 'EX', ARGV[3 + i]) end
end
return 1
`;

// ARGV[2]: our pending record. Only our own claim is removed.
const RELEASE = `
for i = 1, tonumber(ARGV[1]) do
  if redis.call('GET', KEYS[i]) == ARGV[2] then redis.call('DEL', KEYS[i]) end
end
return 1
`;

const SCRIPTS = {
  webhookReplayClaim: { numberOfKeys: 2, lua: CLAIM },
  webhookReplayFinish: { numberOfKeys: 2, lua: FINISH },
  webhookReplayRelease: { numberOfKeys: 2, lua: RELEASE },
} as const;

export interface ReplayStoreOptions {
  redis: Redis;
  /** QUEUE_PREFIX. */
  prefix: string;
  /** How long a signed request is remembered: at least as long as its signature stays valid. */
  signedTtlSec: number;
}

export class WebhookReplayStore {
  private readonly scripts: ScriptCommands<typeof SCRIPTS>;

  constructor(private readonly opts: ReplayStoreOptions) {
    this.scripts = defineScripts(opts.redis, SCRIPTS);
  }

  deliveryKey(deliveryId: string): string {
    return `${this.opts.prefix}:webhook:delivery:${deliveryId}`;
  }

  signedKey(timestamp: number, rawBody: Buffer): string {
    return `${this.opts.prefix}:webhook:signed:${createHash('sha256').update(`${timestamp}.`).update(rawBody).digest('hex')}`;
  }

  /** Claims the request's keys, or says who got there first. */
  async claim(input: { timestamp: number; rawBody: Buffer; deliveryId?: string }): Promise<ClaimResult> {
    const bodyHash = createHash('sha256').update(input.rawBody).digest('hex');
    const keys = [this.signedKey(input.timestamp, input.rawBody)];
    const ttls = [this.opts.signedTtlSec];
    if (input.deliveryId !== undefined) {
      keys.push(this.deliveryKey(input.deliveryId));
      ttls.push(DELIVERY_TTL_SEC);
    }
    const pending = JSON.stringify({ state: 'pending', token: randomUUID(), body: bodyHash } satisfies ReplayRecord);
    const found = (await this.scripts.webhookReplayClaim(
      ...scriptKeys(keys),
      keys.length,
      pending,
      PENDING_TTL_MS,
      ...ttls,
    )) as string | null;
    if (found === null) return { kind: 'claimed', claim: { keys, pending, bodyHash, ttls } };
    const record = JSON.parse(found) as ReplayRecord;
    if (record.state === 'pending') return { kind: 'pending' };
    return { kind: 'done', record, sameBody: record.body === bodyHash };
  }

  /** The request's batch exists: replays are answered with it from now on. */
  async finish(claim: ReplayClaim, outcome: ReplayOutcome): Promise<void> {
    const done = JSON.stringify({ state: 'done', ...outcome, body: claim.bodyHash } satisfies ReplayRecord);
    await this.scripts.webhookReplayFinish(
      ...scriptKeys(claim.keys),
      claim.keys.length,
      claim.pending,
      done,
      ...claim.ttls,
    );
  }

  /** The request failed before its batch was made: the sender's retry may claim again. */
  async release(claim: ReplayClaim): Promise<void> {
    await this.scripts.webhookReplayRelease(...scriptKeys(claim.keys), claim.keys.length, claim.pending);
  }
}

/** The scripts' two key slots; the second repeats the first when there is no delivery id. */
function scriptKeys(keys: readonly string[]): [string, string] {
  return [keys[0] as string, keys[1] ?? (keys[0] as string)];
}
