import { createHash, randomUUID } from 'node:crypto';
import type { RedisConnection } from '../redis/connection.js';
import type { RedisKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';

/**
 * What the webhook remembers so a delivery is acted on once: the sender's delivery id, and the
 * signed content for as long as its signature is valid. A request claims both at once; a
 * second one finding a claim waits or is told 409, one finding a finished claim of the same
 * body gets the original batch, and a delivery id finished with another body is a conflict
 * (docs/architecture.md "Webhook replay protection").
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

type DoneRecord = Extract<ReplayRecord, { state: 'done' }>;

export type ClaimResult =
  | { kind: 'claimed'; claim: ReplayClaim }
  | { kind: 'pending' }
  /** The same request: the same signed content, or the same delivery id with the same body. */
  | { kind: 'done'; record: DoneRecord }
  /** The delivery id was used for another body: nothing of this one is queued. */
  | { kind: 'conflict'; record: DoneRecord };

export interface ReplayClaim {
  keys: string[];
  pending: string;
  bodyHash: string;
  ttls: number[];
}

export interface ReplayStoreOptions {
  redis: RedisConnection;
  keys: RedisKeys;
  /** How long a signed request is remembered: at least as long as its signature stays valid. */
  signedTtlSec: number;
}

export class WebhookReplayStore {
  private readonly scripts: ScriptCommands;

  constructor(private readonly opts: ReplayStoreOptions) {
    this.scripts = withScripts(opts.redis);
  }

  deliveryKey(deliveryId: string): string {
    return this.opts.keys.webhookDelivery(deliveryId);
  }

  signedKey(timestamp: number, rawBody: Buffer): string {
    return this.opts.keys.webhookSigned(createHash('sha256').update(`${timestamp}.`).update(rawBody).digest('hex'));
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
      this.opts.signedTtlSec,
      bodyHash,
    )) as [string, string] | null;
    if (found === null) return { kind: 'claimed', claim: { keys, pending, bodyHash, ttls } };
    const record = JSON.parse(found[1]) as ReplayRecord;
    if (record.state === 'pending') return { kind: 'pending' };
    return { kind: record.body === bodyHash ? 'done' : 'conflict', record };
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
