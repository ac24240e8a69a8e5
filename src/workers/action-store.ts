import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import {
  ACTION_STATES,
  actionFactsSchema,
  actionNameSchema,
  FINAL_ACTION_STATES,
  REQUESTERS,
  type ActionFacts,
  type ActionName,
  type ActionState,
  type Requester,
} from '../lifecycle/action.js';
import type { RedisConnection } from '../redis/connection.js';
import type { RedisKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';

/**
 * Lifecycle actions beside the onboarding store (docs/lifecycle.md "Records"): one record per
 * action, a line of actions per customer (whose head has the turn), each customer's history, the
 * batches of actions and the pending deletions. The onboarding records are not touched: a
 * customer stays onboarded whatever happens to it afterwards.
 */

const jsonFacts = z
  .string()
  .optional()
  .transform((json) => actionFactsSchema.parse(json === undefined ? {} : JSON.parse(json)));

export const actionRecordSchema = z.object({
  id: z.string(),
  batchId: z.string(),
  customerKey: z.string(),
  customerName: z.string().default(''),
  action: actionNameSchema,
  state: z.enum(ACTION_STATES),
  requesterKind: z.enum(REQUESTERS),
  requester: z.string().default(''),
  step: z.string().optional(),
  /** In words: what the action did ("disabled; deleted after 2027-01-05") or why it waits. */
  outcome: z.string().optional(),
  error: z.string().optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  deleteAt: z.string().optional(),
  facts: jsonFacts,
});
export type ActionRecord = z.infer<typeof actionRecordSchema>;

export const actionBatchSchema = z.object({
  id: z.string(),
  action: actionNameSchema,
  source: z.string(),
  label: z.string(),
  createdAt: z.string(),
  total: z.coerce.number(),
});
export type ActionBatch = z.infer<typeof actionBatchSchema>;

export interface NewAction {
  customerKey: string;
  customerName: string;
  action: ActionName;
  requester: Requester;
}

/** Action batch ids start so, which tells them from onboarding batches (`b-…`). */
export const ACTION_BATCH_PREFIX = 'ab-';

export function isActionBatchId(id: string): boolean {
  return id.startsWith(ACTION_BATCH_PREFIX);
}

export type TurnVerdict = 'go' | 'onboarding' | 'onboarding-failed' | 'not-onboarded' | 'behind';

export class ActionStore {
  private readonly redis: RedisConnection & ScriptCommands;

  constructor(
    redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withScripts(redis);
  }

  /** Ids for a batch and its actions, made before anything is written (the jobs go first). */
  newIds(count: number): { batchId: string; actionIds: string[] } {
    const stamp = Date.now().toString(36);
    const batchId = `${ACTION_BATCH_PREFIX}${stamp}-${randomBytes(3).toString('hex')}`;
    const actionIds = Array.from({ length: count }, () => `${stamp}-${randomBytes(5).toString('hex')}`);
    return { batchId, actionIds };
  }

  /**
   * The batch, its actions (queued) and each customer's line, in one transaction: the action
   * asked first for a customer is first in its line.
   */
  async createBatch(
    batch: { id: string; action: ActionName; source: string; label: string },
    actions: readonly (NewAction & { id: string })[],
  ): Promise<void> {
    const now = new Date();
    const multi = this.redis.multi();
    multi.hset(this.keys.actionBatch(batch.id), { ...batch, createdAt: now.toISOString(), total: actions.length });
    multi.zadd(this.keys.actionBatches, now.getTime(), batch.id);
    for (const action of actions) {
      multi.hsetnx(this.keys.action(action.id), 'state', 'queued');
      multi.hset(this.keys.action(action.id), this.recordFields(batch.id, action, now));
      multi.rpush(this.keys.actionBatchActions(batch.id), action.id);
      multi.rpush(this.keys.actionTurns(action.customerKey), action.id);
      multi.zadd(this.keys.actionHistory(action.customerKey), now.getTime(), action.id);
    }
    await multi.exec();
  }

  /** A step found no record (its producer stopped between the job and the record): written from the job. */
  async ensureRecord(batchId: string, action: NewAction & { id: string }): Promise<void> {
    const key = this.keys.action(action.id);
    if ((await this.redis.exists(key)) === 1) return;
    const now = new Date();
    await this.redis
      .multi()
      .hsetnx(key, 'state', 'queued')
      .hset(key, this.recordFields(batchId, action, now))
      .zadd(this.keys.actionHistory(action.customerKey), now.getTime(), action.id)
      .exec();
  }

  private recordFields(batchId: string, action: NewAction & { id: string }, now: Date): Record<string, string> {
    return {
      id: action.id,
      batchId,
      customerKey: action.customerKey,
      customerName: action.customerName,
      action: action.action,
      requesterKind: action.requester.kind,
      requester: action.requester.label,
      createdAt: now.toISOString(),
    };
  }

  /** Whether the action may run now on its customer (src/redis/lua/action-turn.lua). */
  async turn(customerKey: string, actionId: string): Promise<{ verdict: TurnVerdict; ahead?: string }> {
    const [verdict, ahead] = (await this.redis.actionTurn(
      this.keys.customer(customerKey),
      this.keys.actionTurns(customerKey),
      actionId,
      this.keys.actionPrefix,
    )) as [TurnVerdict, string];
    return { verdict, ...(ahead ? { ahead } : {}) };
  }

  /** Moves the action if its state is in `from`; says what it was and whether it moved. */
  async transition(
    id: string,
    from: readonly ActionState[] | '*',
    to: ActionState,
    fields: Record<string, string | undefined> = {},
  ): Promise<{ previous: ActionState | undefined; applied: boolean }> {
    const args = Object.entries(fields).flatMap(([k, v]) => [k, v ?? '']);
    const [previous, applied] = (await this.redis.actionTransition(
      this.keys.action(id),
      from === '*' ? '*' : from.join(','),
      to,
      ...args,
    )) as [string, number];
    return { previous: (previous || undefined) as ActionState | undefined, applied: applied === 1 };
  }

  async recordFacts(id: string, facts: ActionFacts): Promise<void> {
    await this.redis.hset(this.keys.action(id), 'facts', JSON.stringify(actionFactsSchema.parse(facts)));
  }

  /**
   * An action reached an end: its turn goes to the next in its customer's line. False when it was
   * not in one of `from` (it ended otherwise, or it is running: a cancel that came too late).
   */
  async finish(
    action: { id: string; customerKey: string },
    to: Extract<ActionState, 'done' | 'failed' | 'cancelled' | 'deleted'>,
    fields: Record<string, string | undefined>,
    from: readonly ActionState[] = ['queued', 'waiting', 'running', 'pending-deletion'],
  ): Promise<boolean> {
    const moved = await this.transition(action.id, from, to, { ...fields, finishedAt: new Date().toISOString() });
    const ended = moved.applied || (moved.previous !== undefined && FINAL_ACTION_STATES.includes(moved.previous));
    if (ended) await this.release(action);
    return moved.applied;
  }

  /** Out of its customer's line and the pending deletions (again, after a crash between the end and this). */
  async release(action: { id: string; customerKey: string }): Promise<void> {
    await this.redis
      .multi()
      .lrem(this.keys.actionTurns(action.customerKey), 0, action.id)
      .zrem(this.keys.pendingDeletions, action.id)
      .exec();
  }

  async schedulePendingDeletion(id: string, deleteAt: Date): Promise<void> {
    await this.redis.zadd(this.keys.pendingDeletions, deleteAt.getTime(), id);
  }

  async get(id: string): Promise<ActionRecord | undefined> {
    const raw = await this.redis.hgetall(this.keys.action(id));
    return Object.keys(raw).length === 0 ? undefined : actionRecordSchema.parse(raw);
  }

  async getMany(ids: readonly string[]): Promise<ActionRecord[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.hgetall(this.keys.action(id));
    const replies = (await pipeline.exec()) ?? [];
    return replies.flatMap(([err, raw]) => {
      if (err) throw err;
      const record = raw as Record<string, string>;
      return Object.keys(record).length === 0 ? [] : [actionRecordSchema.parse(record)];
    });
  }

  /** A customer's actions, newest first (its timeline). */
  async customerActions(customerKey: string, limit = 50): Promise<ActionRecord[]> {
    return this.getMany(await this.redis.zrevrange(this.keys.actionHistory(customerKey), 0, limit - 1));
  }

  /** The customer's action still in its line (waiting, running or pending a deletion), if any. */
  async openActions(customerKey: string): Promise<ActionRecord[]> {
    const ids = await this.redis.lrange(this.keys.actionTurns(customerKey), 0, -1);
    return (await this.getMany(ids)).filter((a) => !FINAL_ACTION_STATES.includes(a.state));
  }

  async getBatch(id: string): Promise<ActionBatch | undefined> {
    const raw = await this.redis.hgetall(this.keys.actionBatch(id));
    return Object.keys(raw).length === 0 ? undefined : actionBatchSchema.parse(raw);
  }

  async batchActions(id: string): Promise<ActionRecord[]> {
    return this.getMany(await this.redis.lrange(this.keys.actionBatchActions(id), 0, -1));
  }

  /** Newest first. */
  async listBatches(limit = 20): Promise<ActionBatch[]> {
    const ids = await this.redis.zrevrange(this.keys.actionBatches, 0, limit - 1);
    const batches = await Promise.all(ids.map((id) => this.getBatch(id)));
    return batches.filter((b): b is ActionBatch => b !== undefined);
  }

  /** Offboards waiting for their delete, soonest first. */
  async pendingDeletions(limit = 500): Promise<ActionRecord[]> {
    return this.getMany(await this.redis.zrange(this.keys.pendingDeletions, 0, limit - 1));
  }
}

/** Counts by state of a batch's actions. */
export function countByState(actions: readonly ActionRecord[]): Record<ActionState, number> {
  const counts = Object.fromEntries(ACTION_STATES.map((s) => [s, 0])) as Record<ActionState, number>;
  for (const action of actions) counts[action.state] += 1;
  return counts;
}

/** A batch has ended when none of its actions waits or runs (one pending its deletion has ended its part for now). */
export function batchEnded(actions: readonly ActionRecord[]): boolean {
  return actions.every((a) => a.state !== 'queued' && a.state !== 'waiting' && a.state !== 'running');
}
