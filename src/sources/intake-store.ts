import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { FieldProblem } from '../onboarding/customer-request.js';
import type { RedisConnection } from '../redis/connection.js';
import type { RedisKeys } from '../redis/keys.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import { SourceApiError, type SourceEvent } from './kind.js';

/**
 * What the intake keeps in Redis (docs/sources.md "What is kept"), the one place the Sources page,
 * the `sources` command and the customer page read it from:
 *   - each event, recorded once by its id, and its outcome: `received` until its intake job
 *     settles it as `onboarding` (batch, customer), `action` (the lifecycle action, its batch,
 *     customer), `ignored` (why), `rejected` (field problems)
 *     or `failed` (the source's API refused or kept failing);
 *   - per source, the latest events by arrival and the count of events by outcome;
 *   - per customer from a source, its write-back: where it goes and how it went.
 */

export const EVENT_OUTCOMES = ['received', 'onboarding', 'action', 'ignored', 'rejected', 'failed'] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];
export type SettledOutcome = Exclude<EventOutcome, 'received'>;

/** Events kept 30 days; the latest this many per source are listed. */
const EVENT_TTL_SEC = 30 * 24 * 3600;
export const LATEST_EVENTS_KEPT = 1000;

export const storedEventSchema = z.object({
  eventHash: z.string(),
  eventId: z.string(),
  type: z.string(),
  objectType: z.string(),
  objectId: z.string(),
  outcome: z.enum(EVENT_OUTCOMES),
  receivedAt: z.coerce.number(),
  settledAt: z.coerce.number().optional(),
  reason: z.string().optional(),
  problems: z
    .string()
    .transform((s) => JSON.parse(s) as FieldProblem[])
    .optional(),
  batchId: z.string().optional(),
  customer: z.string().optional(),
  /** What enqueueing did: queued, replaced, already-onboarded, already-queued. */
  enqueued: z.string().optional(),
  /** The lifecycle action the event asked for (outcome `action`). */
  action: z.string().optional(),
});
export type StoredEvent = z.infer<typeof storedEventSchema>;

export const WRITE_BACK_STATES = ['pending', 'written', 'failed'] as const;
export const writeBackRecordSchema = z.object({
  source: z.string(),
  objectType: z.string(),
  objectId: z.string(),
  state: z.enum(WRITE_BACK_STATES),
  /** The customer's state written back (done or failed), once written. */
  result: z.string().optional(),
  attempts: z.coerce.number().default(0),
  error: z.string().optional(),
  updatedAt: z.string(),
});
export type WriteBackRecord = z.infer<typeof writeBackRecordSchema>;

/** The two kinds of call the intake makes to a source's API, as `/metrics` labels them. */
export type SourceCall = 'read_back' | 'write_back';
export interface SourceCallCount {
  source: string;
  call: SourceCall;
  /** `ok`, the HTTP status the source answered, or `error` when it gave none (a timeout, a reset). */
  result: string;
  count: number;
}

/** The result label of a call: never the error's text (it could name a URL or a value). */
export function callResultOf(err: unknown): string {
  if (err === undefined) return 'ok';
  return err instanceof SourceApiError && err.status !== undefined ? String(err.status) : 'error';
}

/** An event id as a key part: fixed length, any bytes the vendor chose. */
export function eventHashOf(eventId: string): string {
  return createHash('sha256').update(eventId).digest('hex').slice(0, 32);
}

/** Ids, types and reasons are the vendor's text: kept short in Redis. */
const cut = (text: string, max = 300) => (text.length > max ? `${text.slice(0, max)}…` : text);

export class SourceIntakeStore {
  private readonly redis: RedisConnection & ScriptCommands;

  constructor(
    redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withScripts(redis);
  }

  /** Records each event once; says per event whether it is new or what it has become already. */
  async record(source: string, events: readonly SourceEvent[], receivedAt: number): Promise<('new' | EventOutcome)[]> {
    const keys = this.keys.source(source);
    const pipeline = this.redis.pipeline() as unknown as ScriptCommands & {
      exec(): Promise<[Error | null, unknown][]>;
    };
    for (const event of events) {
      const fields = {
        eventHash: eventHashOf(event.eventId),
        eventId: cut(event.eventId, 200),
        type: cut(event.type, 100),
        objectType: cut(event.objectType, 100),
        objectId: cut(event.objectId, 200),
      };
      void pipeline.sourceEventRecord(
        keys.event(fields.eventHash),
        keys.events,
        keys.outcomes,
        receivedAt,
        EVENT_TTL_SEC,
        LATEST_EVENTS_KEPT,
        ...Object.entries(fields).flat(),
      );
    }
    const results = await pipeline.exec();
    return results.map(([err, value]) => {
      if (err) throw err;
      return value as 'new' | EventOutcome;
    });
  }

  /** The event's outcome, once; false when it had one already (a job that ran twice). */
  async settle(
    source: string,
    eventHash: string,
    outcome: SettledOutcome,
    details: {
      reason?: string;
      problems?: readonly FieldProblem[];
      batchId?: string;
      customer?: string;
      enqueued?: string;
      action?: string;
    } = {},
  ): Promise<boolean> {
    const keys = this.keys.source(source);
    const fields: Record<string, string> = { settledAt: String(Date.now()) };
    if (details.reason !== undefined) fields.reason = cut(details.reason, 1000);
    if (details.problems) fields.problems = JSON.stringify(details.problems.slice(0, 20));
    if (details.batchId) fields.batchId = details.batchId;
    if (details.customer) fields.customer = details.customer;
    if (details.enqueued) fields.enqueued = details.enqueued;
    if (details.action) fields.action = details.action;
    const settled = await this.redis.sourceEventSettle(
      keys.event(eventHash),
      keys.outcomes,
      outcome,
      ...Object.entries(fields).flat(),
    );
    return settled === 1;
  }

  async event(source: string, eventHash: string): Promise<StoredEvent | undefined> {
    const record = await this.redis.hgetall(this.keys.source(source).event(eventHash));
    return Object.keys(record).length === 0 ? undefined : storedEventSchema.parse(record);
  }

  /** The latest events of a source, newest first (those expired are left out). */
  async latestEvents(source: string, limit = 50): Promise<StoredEvent[]> {
    const keys = await this.redis.zrevrange(this.keys.source(source).events, 0, limit - 1);
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hgetall(key);
    const results = (await pipeline.exec()) ?? [];
    return results.flatMap(([err, record]) =>
      !err && record && Object.keys(record).length > 0 ? [storedEventSchema.parse(record)] : [],
    );
  }

  /** Events by outcome since the install began counting (received counts every event). */
  async outcomeCounts(source: string): Promise<Record<EventOutcome, number>> {
    const counts = await this.redis.hgetall(this.keys.source(source).outcomes);
    return Object.fromEntries(EVENT_OUTCOMES.map((o) => [o, Number(counts[o] ?? 0)])) as Record<EventOutcome, number>;
  }

  /**
   * Counts one read-back or write-back for `/metrics`. A count that cannot be written is left out
   * rather than failing the job it counts.
   */
  async countCall(source: string, call: SourceCall, err?: unknown): Promise<void> {
    await this.redis
      .hincrby(this.keys.metrics.sourceCalls, `${source}|${call}|${callResultOf(err)}`, 1)
      .catch(() => undefined);
  }

  /** Every source's calls by kind of call and result, since the install began counting. */
  async callCounts(): Promise<SourceCallCount[]> {
    const counts = await this.redis.hgetall(this.keys.metrics.sourceCalls);
    return Object.entries(counts).flatMap(([field, n]) => {
      const [source, call, result] = field.split('|');
      if (!source || (call !== 'read_back' && call !== 'write_back') || !result) return [];
      return [{ source, call, result, count: Number(n) }];
    });
  }

  async setWriteBack(customerKey: string, record: Partial<WriteBackRecord>): Promise<void> {
    const fields = Object.fromEntries(
      Object.entries({ ...record, updatedAt: new Date().toISOString() }).flatMap(([k, v]) =>
        v === undefined ? [] : [[k, k === 'error' ? cut(String(v), 1000) : String(v)]],
      ),
    );
    await this.redis.hset(this.keys.writeBack(customerKey), fields);
  }

  /** The customer's write-back, when it came from a source. */
  async writeBack(customerKey: string): Promise<WriteBackRecord | undefined> {
    const record = await this.redis.hgetall(this.keys.writeBack(customerKey));
    if (Object.keys(record).length === 0) return undefined;
    const parsed = writeBackRecordSchema.safeParse(record);
    return parsed.success ? parsed.data : undefined;
  }
}
