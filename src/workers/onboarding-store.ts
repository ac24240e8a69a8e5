import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { ChainFacts, StepName } from '../onboarding/chain.js';
import { defineScripts, type ScriptCommands } from '../redis-scripts.js';

/**
 * Where each customer stands and how each batch is doing, kept in Redis beside the queue
 * so the CLI and the dashboard read one source. Every state change goes through one Lua
 * script that moves the customer and adjusts its batch's counts in the same step, so counts
 * stay exact even when BullMQ runs a step twice (at-least-once, BULLMQ-NOTES.md §1.6).
 *
 * Keys (P = QUEUE_PREFIX):
 *   P:onb:customer:<key>          hash: state, step, batchId, facts (secrets sealed), error
 *   P:onb:batch:<id>              hash: id, source, label, createdAt, total and one count per state
 *   P:onb:batch:<id>:customers    zset: customer key → position in the batch
 *   P:onb:batch:<id>:outcomes     hash: customer key → what enqueueing did (queued, replaced, …)
 *   P:onb:batches                 zset: batch id → createdAt
 */

export const CUSTOMER_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type CustomerState = (typeof CUSTOMER_STATES)[number];

export const customerRecordSchema = z.object({
  key: z.string(),
  name: z.string().default(''),
  batchId: z.string(),
  /** The chain this record belongs to (a resubmission after a failure starts a new one). */
  runId: z.string().optional(),
  state: z.enum(CUSTOMER_STATES),
  step: z.string().optional(),
  failedStep: z.string().optional(),
  error: z.string().optional(),
  errorRetryable: z.string().optional(),
  attempts: z.coerce.number().optional(),
  queuedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  tenantId: z.string().optional(),
  userId: z.string().optional(),
  login: z.string().optional(),
  personalTenantId: z.string().optional(),
  edition: z.string().optional(),
  activation: z.string().optional(),
  passwordSealed: z.string().optional(),
  tokenSealed: z.string().optional(),
  tokenExpiresAt: z.string().optional(),
  /** The chain's planned steps, comma-separated, so `retry` knows which job id failed. */
  steps: z.string().optional(),
});
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

export const batchRecordSchema = z.object({
  id: z.string(),
  source: z.string(),
  label: z.string(),
  createdAt: z.string(),
  total: z.coerce.number().default(0),
  queued: z.coerce.number().default(0),
  running: z.coerce.number().default(0),
  done: z.coerce.number().default(0),
  failed: z.coerce.number().default(0),
  /** Submitted again while already onboarded or already queued: nothing enqueued. */
  skipped: z.coerce.number().default(0),
  /** Failed here, then resubmitted in a later batch that took the customer over. */
  moved: z.coerce.number().default(0),
});
export type BatchRecord = z.infer<typeof batchRecordSchema> & { ended: boolean };

export type EnqueueOutcome = 'queued' | 'replaced' | 'already-onboarded' | 'already-queued';

/** Facts that may be shown (ids, states); sealed secrets are stored but only `results` opens them. */
const RECORDED_FACTS = [
  'tenantId',
  'userId',
  'login',
  'personalTenantId',
  'edition',
  'activation',
  'passwordSealed',
  'tokenSealed',
  'tokenExpiresAt',
] as const;

// Moves a customer to ARGV[2] if its state is one of ARGV[3] (comma list, '*' = any), and
// shifts one unit of its batch's counts from the old state to the new one.
const TRANSITION = `
local customerKey = KEYS[1]
local prefix = ARGV[1]
local target = ARGV[2]
local allowed = ARGV[3]
local old = redis.call('HGET', customerKey, 'state')
if not old then return false end
if allowed ~= '*' and not string.find(',' .. allowed .. ',', ',' .. old .. ',', 1, true) then return {old, 0} end
for i = 4, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', customerKey, ARGV[i]) else redis.call('HSET', customerKey, ARGV[i], ARGV[i + 1]) end
end
if old ~= target then
  redis.call('HSET', customerKey, 'state', target)
  local batchId = redis.call('HGET', customerKey, 'batchId')
  if batchId then
    local batchKey = prefix .. ':onb:batch:' .. batchId
    redis.call('HINCRBY', batchKey, old, -1)
    redis.call('HINCRBY', batchKey, target, 1)
  end
end
return {old, 1}
`;

// Claims a customer for a new chain in batch ARGV[2]. Outcomes:
//   queued            no record yet: created
//   replaced          the last chain failed: the record now belongs to this batch, afresh
//   already-onboarded done: nothing to do
//   already-queued    queued or running: the chain in flight carries on
const CLAIM = `
local customerKey = KEYS[1]
local prefix = ARGV[1]
local batchId = ARGV[2]
local key = ARGV[3]
local position = tonumber(ARGV[4])
local now = ARGV[5]
local batchKey = prefix .. ':onb:batch:' .. batchId
local runId = ARGV[6]
local old = redis.call('HGET', customerKey, 'state')
local outcome
if old and redis.call('HGET', customerKey, 'runId') == runId then
  -- The same chain claimed twice (the producer and, after a crash, its first worker): nothing changes.
  return 'queued'
elseif not old then
  outcome = 'queued'
elseif old == 'failed' then
  outcome = 'replaced'
  local oldBatch = redis.call('HGET', customerKey, 'batchId')
  local oldBatchKey = prefix .. ':onb:batch:' .. oldBatch
  redis.call('HINCRBY', oldBatchKey, 'failed', -1)
  redis.call('HINCRBY', oldBatchKey, 'moved', 1)
elseif old == 'done' then
  outcome = 'already-onboarded'
else
  outcome = 'already-queued'
end
redis.call('ZADD', batchKey .. ':customers', 'NX', position, key)
redis.call('HSET', batchKey .. ':outcomes', key, outcome)
redis.call('HINCRBY', batchKey, 'total', 1)
if outcome == 'queued' or outcome == 'replaced' then
  redis.call('DEL', customerKey)
  redis.call('HSET', customerKey, 'key', key, 'batchId', batchId, 'runId', runId, 'state', 'queued', 'queuedAt', now, 'updatedAt', now)
  for i = 7, #ARGV, 2 do redis.call('HSET', customerKey, ARGV[i], ARGV[i + 1]) end
  redis.call('HINCRBY', batchKey, 'queued', 1)
else
  redis.call('HINCRBY', batchKey, 'skipped', 1)
end
return outcome
`;

const SCRIPTS = {
  onboardingClaim: { numberOfKeys: 1, lua: CLAIM },
  onboardingTransition: { numberOfKeys: 1, lua: TRANSITION },
} as const;

export interface OnboardingStoreOptions {
  redis: Redis;
  /** QUEUE_PREFIX. */
  prefix: string;
}

type Fields = Record<string, string | undefined>;

export class OnboardingStore {
  private readonly redis: Redis;
  private readonly scripts: ScriptCommands<typeof SCRIPTS>;
  private readonly prefix: string;

  constructor(opts: OnboardingStoreOptions) {
    this.redis = opts.redis;
    this.scripts = defineScripts(opts.redis, SCRIPTS);
    this.prefix = opts.prefix;
  }

  customerKey(key: string): string {
    return `${this.prefix}:onb:customer:${key}`;
  }

  private batchKey(id: string): string {
    return `${this.prefix}:onb:batch:${id}`;
  }

  /** A new batch (one CSV import, one webhook call); ids sort by creation time. */
  async createBatch(input: { source: string; label: string }): Promise<BatchRecord> {
    const now = new Date();
    const id = `b-${now.getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
    const record = { id, source: input.source, label: input.label, createdAt: now.toISOString() };
    await this.redis
      .multi()
      .hset(this.batchKey(id), { ...record, total: 0, queued: 0, running: 0, done: 0, failed: 0, skipped: 0, moved: 0 })
      .zadd(`${this.prefix}:onb:batches`, now.getTime(), id)
      .exec();
    return { ...batchRecordSchema.parse(record), ended: true };
  }

  /** Claims the customer for a chain in `batchId` (see CLAIM for the outcomes). */
  async claim(input: {
    batchId: string;
    key: string;
    runId: string;
    position: number;
    fields: Fields;
  }): Promise<EnqueueOutcome> {
    const args = Object.entries(input.fields).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));
    const outcome = await this.scripts.onboardingClaim(
      this.customerKey(input.key),
      this.prefix,
      input.batchId,
      input.key,
      input.position,
      new Date().toISOString(),
      input.runId,
      ...args,
    );
    return outcome as EnqueueOutcome;
  }

  /** Moves the customer if its state is in `from`; returns the state it had and whether it moved. */
  async transition(
    key: string,
    to: CustomerState,
    from: readonly CustomerState[] | '*',
    fields: Fields = {},
  ): Promise<{ previous: CustomerState | null; applied: boolean }> {
    const args = Object.entries({ ...fields, updatedAt: new Date().toISOString() }).flatMap(([k, v]) => [k, v ?? '']);
    const result = (await this.scripts.onboardingTransition(
      this.customerKey(key),
      this.prefix,
      to,
      from === '*' ? '*' : from.join(','),
      ...args,
    )) as [CustomerState, number] | null;
    if (!result) return { previous: null, applied: false };
    return { previous: result[0], applied: result[1] === 1 };
  }

  /** A step starts. A customer already onboarded stays so (a stalled job re-running its last step). */
  markRunning(key: string, step: StepName, attempt: number) {
    return this.transition(key, 'running', ['queued', 'running', 'failed'], { step, attempts: String(attempt) });
  }

  /** Facts established by a step, recorded as they come so a failed customer still shows its tenant. */
  async recordFacts(key: string, facts: Partial<ChainFacts>): Promise<void> {
    const fields: Record<string, string> = {};
    for (const name of RECORDED_FACTS) {
      const value = facts[name];
      if (value !== undefined && value !== null) fields[name] = String(value);
    }
    if (Object.keys(fields).length > 0) await this.redis.hset(this.customerKey(key), fields);
  }

  markFailed(key: string, step: StepName, reason: string, retryable: boolean) {
    return this.transition(key, 'failed', ['queued', 'running', 'failed'], {
      failedStep: step,
      step,
      error: reason,
      errorRetryable: String(retryable),
      finishedAt: new Date().toISOString(),
    });
  }

  markDone(key: string) {
    return this.transition(key, 'done', '*', {
      step: 'finish',
      failedStep: undefined,
      error: undefined,
      errorRetryable: undefined,
      finishedAt: new Date().toISOString(),
    });
  }

  /** `retry`: a failed customer goes back to queued (its failed job is retried by the caller). */
  markRequeued(key: string) {
    return this.transition(key, 'queued', ['failed'], {
      error: undefined,
      errorRetryable: undefined,
      finishedAt: undefined,
    });
  }

  async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    const raw = await this.redis.hgetall(this.customerKey(key));
    if (Object.keys(raw).length === 0) return undefined;
    return customerRecordSchema.parse(raw);
  }

  async getBatch(id: string): Promise<BatchRecord | undefined> {
    const raw = await this.redis.hgetall(this.batchKey(id));
    if (Object.keys(raw).length === 0) return undefined;
    const batch = batchRecordSchema.parse(raw);
    return { ...batch, ended: batch.queued + batch.running === 0 };
  }

  /** Newest first. */
  async listBatches(limit = 20): Promise<BatchRecord[]> {
    const ids = await this.redis.zrevrange(`${this.prefix}:onb:batches`, 0, limit - 1);
    const batches = await Promise.all(ids.map((id) => this.getBatch(id)));
    return batches.filter((b): b is BatchRecord => b !== undefined);
  }

  /** The customers submitted in a batch, in submission order, with what enqueueing did and their current record. */
  async batchCustomers(
    id: string,
  ): Promise<{ key: string; outcome: EnqueueOutcome; record: CustomerRecord | undefined }[]> {
    const keys = await this.redis.zrange(`${this.batchKey(id)}:customers`, 0, -1);
    const outcomes = await this.redis.hgetall(`${this.batchKey(id)}:outcomes`);
    const records = await Promise.all(keys.map((key) => this.getCustomer(key)));
    return keys.map((key, i) => ({ key, outcome: (outcomes[key] ?? 'queued') as EnqueueOutcome, record: records[i] }));
  }
}
