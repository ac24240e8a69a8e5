import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../redis/connection.js';
import { z } from 'zod';
import { chainFactsSchema, type ChainFacts, type StepName } from '../onboarding/chain.js';
import { needsChangeSchema, type NeedsChange } from '../onboarding/errors.js';
import type { RedisKeys } from '../redis/keys.js';
import { scanKeys } from '../redis/scan.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';

/**
 * Where each customer stands and how each batch is doing, beside the queue, so the CLI and the
 * dashboard read one source. Every state change is one Lua script that moves the customer and
 * its batch's counts together (docs/architecture.md "The onboarding store").
 */

export const CUSTOMER_STATES = ['queued', 'running', 'done', 'failed'] as const;
export type CustomerState = (typeof CUSTOMER_STATES)[number];

/** The facts are the chain's own (one schema for job data and record), kept as JSON; secrets in them are sealed. */
const factsField = z
  .string()
  .optional()
  .transform((json, ctx) => {
    const parsed = chainFactsSchema.safeParse(json === undefined ? {} : JSON.parse(json));
    if (parsed.success) return parsed.data;
    ctx.addIssue({ code: 'custom', message: `unreadable facts: ${parsed.error.issues[0]?.message}` });
    return z.NEVER;
  });

/** Records written before the field existed have none: they stay retryable, as they were. */
const needsChangeField = z
  .string()
  .optional()
  .transform((json) => {
    if (json === undefined) return undefined;
    try {
      const parsed = needsChangeSchema.safeParse(JSON.parse(json));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  });

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
  /** Set when the failure is a conflict only a changed name or login resolves (see `retry`). */
  needsChange: needsChangeField,
  attempts: z.coerce.number().optional(),
  queuedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  /** When `retry` last put the failed customer back (ms since the epoch): a failure before it is handled. */
  requeuedAt: z.coerce.number().optional(),
  /** The chain's planned steps, comma-separated, so `retry` knows which job id failed. */
  steps: z.string().optional(),
  /** The partner it is onboarded under (docs/partners.md); absent: the install's default partner. */
  partner: z.string().optional(),
  facts: factsField,
});
export type CustomerRecord = z.infer<typeof customerRecordSchema>;

const count = z.coerce.number().default(0);
export const batchRecordSchema = z.object({
  id: z.string(),
  source: z.string(),
  label: z.string(),
  createdAt: z.string(),
  total: count,
  queued: count,
  running: count,
  done: count,
  failed: count,
  /** Submitted again while already onboarded or already queued: nothing enqueued. */
  skipped: count,
  /** Failed here, then resubmitted in a later batch that took the customer over. */
  moved: count,
  /** The steps its customers have run and have to run (src/redis/lua/onboarding-index.lua). */
  stepsDone: count,
  stepsPlanned: count,
  /** When the last move left nothing queued or running (a retry moves it on). */
  endedAt: z.string().optional(),
  /** Set when the batch's index exists; a batch made before it is indexed when first paged. */
  indexVersion: z.coerce.number().optional(),
  /** A CSV batch's data rows and bad rows (blank rows not counted). */
  csvRows: z.coerce.number().optional(),
  csvBadRows: z.coerce.number().optional(),
});
export type BatchRecord = z.infer<typeof batchRecordSchema> & { ended: boolean };

/** The index's layout; a batch with another (or none) is indexed again when first paged. */
export const BATCH_INDEX_VERSION = 1;

/** A CSV row that was not imported, as the batch page lists it. */
export const badRowSchema = z.object({
  line: z.number(),
  problems: z.array(z.object({ field: z.string(), reason: z.string() })),
});
export type StoredBadRow = z.infer<typeof badRowSchema>;

/** A CSV file's rows and bad rows, as the batch page shows them. */
export interface CsvRowsSummary {
  rows: number;
  badRowCount: number;
  badRows: readonly StoredBadRow[];
}

/** What a producer names a new batch by; a CSV import adds its rows. */
export interface NewBatch {
  source: string;
  label: string;
  csv?: CsvRowsSummary;
}
/** Bad rows kept per batch (all are counted), and the length a reason is cut to. */
export const MAX_STORED_BAD_ROWS = 200;
const MAX_STORED_REASON = 300;

export type EnqueueOutcome = 'queued' | 'replaced' | 'already-onboarded' | 'already-queued';
/** What a claim without a job may also answer: the customer needs a chain after all (see onboarding-claim.lua). */
export type ClaimOutcome = EnqueueOutcome | 'needs-job';

export interface ClaimInput {
  batchId: string;
  key: string;
  runId: string;
  position: number;
  /** Whether the caller added the chain's first job before claiming. */
  hasJob: boolean;
  fields: Fields;
}

export interface Transition {
  previous: CustomerState | null;
  applied: boolean;
  /** The customer's batch, when the move left none of its customers queued or running. */
  endedBatchId?: string;
  /** Not moved: the move was for one run and the record holds another's chain. */
  otherRun?: true;
}

type Fields = Record<string, string | undefined>;

export class OnboardingStore {
  private readonly redis: RedisConnection & ScriptCommands;

  constructor(
    redis: RedisConnection,
    private readonly keys: RedisKeys,
  ) {
    this.redis = withScripts(redis);
  }

  /**
   * A new batch (one CSV import, one webhook call); ids sort by creation time. A CSV batch's rows
   * and bad rows are written with it: the batch page shows them from the moment the batch exists,
   * and no write of the import's is left after its enqueue (a Redis gone then cannot lose them).
   */
  async createBatch(input: NewBatch): Promise<BatchRecord> {
    const now = new Date();
    const id = `b-${now.getTime().toString(36)}-${randomBytes(3).toString('hex')}`;
    const record = { id, source: input.source, label: input.label, createdAt: now.toISOString() };
    const counts = { total: 0, queued: 0, running: 0, done: 0, failed: 0, skipped: 0, moved: 0 };
    const index = { stepsDone: 0, stepsPlanned: 0, indexVersion: BATCH_INDEX_VERSION };
    const multi = this.redis
      .multi()
      .hset(this.keys.batch(id), { ...record, ...counts, ...index })
      .zadd(this.keys.batches, now.getTime(), id);
    if (input.csv) this.addCsvRows(multi, id, input.csv);
    await multi.exec();
    return { ...batchRecordSchema.parse(record), ended: true };
  }

  /** Claims customers for new chains, all in one round trip (see onboarding-claim.lua for the outcomes). */
  async claimAll(inputs: readonly ClaimInput[]): Promise<ClaimOutcome[]> {
    if (inputs.length === 0) return [];
    const pipeline = this.redis.pipeline() as unknown as ScriptCommands & {
      exec(): ReturnType<RedisConnection['exec']>;
    };
    const now = new Date().toISOString();
    for (const input of inputs) void pipeline.onboardingClaim(...this.claimArgs(input, now));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, outcome]) => {
      if (err) throw err;
      return outcome as ClaimOutcome;
    });
  }

  /** One claim (a worker recording a chain its producer did not get to record). */
  async claim(input: ClaimInput): Promise<ClaimOutcome> {
    return (await this.redis.onboardingClaim(...this.claimArgs(input, new Date().toISOString()))) as ClaimOutcome;
  }

  private claimArgs(input: ClaimInput, now: string): (string | number)[] {
    const fields = Object.entries(input.fields).flatMap(([k, v]) => (v === undefined ? [] : [k, v]));
    const { batchId, key } = input;
    return [
      ...[this.keys.customer(key), this.keys.batch(batchId), this.keys.batchCustomers(batchId)],
      ...[this.keys.batchOutcomes(batchId), this.keys.batchSearchText(batchId)],
      ...this.indexArgs(),
      ...[batchId, key, searchText(key, input.fields.name), input.position, now, input.runId, input.hasJob ? '1' : '0'],
      ...fields,
    ];
  }

  /** Where the scripts find a batch's keys from its id (src/redis/lua/onboarding-index.lua). */
  private indexArgs(): string[] {
    return [this.keys.batchPrefix, this.keys.batchCustomersSuffix, this.keys.batchIndexSuffix];
  }

  /** Moves the customer if its state is in `from`; says what it was, whether it moved, and whether that ended its batch. */
  async transition(
    key: string,
    to: CustomerState,
    from: readonly CustomerState[] | '*',
    fields: Fields = {},
    runId = '',
  ): Promise<Transition> {
    const args = Object.entries({ ...fields, updatedAt: new Date().toISOString() }).flatMap(([k, v]) => [k, v ?? '']);
    const allowed = from === '*' ? '*' : from.join(',');
    const reply = (await this.redis.onboardingTransition(
      this.keys.customer(key),
      ...this.indexArgs(),
      new Date().toISOString(),
      to,
      allowed,
      runId,
      ...args,
    )) as [CustomerState, number, string, number, number?] | null;
    if (!reply) return { previous: null, applied: false };
    const [previous, applied, batchId, remaining, otherRun] = reply;
    const ended = applied === 1 && remaining === 0 && batchId !== '';
    return {
      previous,
      applied: applied === 1,
      ...(ended ? { endedBatchId: batchId } : {}),
      ...(otherRun === 1 ? { otherRun: true as const } : {}),
    };
  }

  /**
   * A step of run `runId` starts. A customer already onboarded stays so (a stalled job re-running
   * its last step); a record held by another run is left alone (`otherRun`).
   */
  markRunning(key: string, step: StepName, attempt: number, runId: string): Promise<Transition> {
    return this.transition(key, 'running', ['queued', 'running', 'failed'], { step, attempts: String(attempt) }, runId);
  }

  /** The chain's facts so far, so a failed customer still shows its tenant. */
  async recordFacts(key: string, facts: Partial<ChainFacts>): Promise<void> {
    const json = JSON.stringify(chainFactsSchema.parse(facts));
    await this.redis.onboardingSetFacts(this.keys.customer(key), ...this.indexArgs(), json, '0', '');
  }

  /**
   * Changes a done customer's recorded facts (an operator's resend) with a compare-and-set, so a
   * write made meanwhile is never undone; false when the record is gone or kept changing.
   */
  async amendFacts(key: string, amend: (facts: ChainFacts) => Partial<ChainFacts>): Promise<boolean> {
    const hash = this.keys.customer(key);
    for (let attempt = 0; attempt < 5; attempt++) {
      const raw = await this.redis.hget(hash, 'facts');
      if (raw === null) return false;
      const next = JSON.stringify(chainFactsSchema.parse(amend(chainFactsSchema.parse(JSON.parse(raw)))));
      if ((await this.redis.onboardingSetFacts(hash, ...this.indexArgs(), next, '1', raw)) === 1) return true;
    }
    return false;
  }

  markFailed(
    key: string,
    step: StepName,
    reason: string,
    retryable: boolean,
    needsChange?: NeedsChange,
    /** Only if the record is this run's (a step's job); any run when absent. */
    runId?: string,
  ): Promise<Transition> {
    return this.transition(
      key,
      'failed',
      ['queued', 'running', 'failed'],
      {
        failedStep: step,
        step,
        error: reason,
        errorRetryable: String(retryable),
        needsChange: needsChange ? JSON.stringify(needsChange) : undefined,
        finishedAt: new Date().toISOString(),
      },
      runId,
    );
  }

  /** The chain of run `runId` ended; any run's when absent. */
  markDone(key: string, runId?: string): Promise<Transition> {
    return this.transition(key, 'done', '*', doneFields(), runId);
  }

  /** `retry`: a failed customer goes back to queued (its failed job is retried by the caller). */
  markRequeued(key: string): Promise<Transition> {
    return this.transition(key, 'queued', ['failed'], {
      error: undefined,
      errorRetryable: undefined,
      needsChange: undefined,
      finishedAt: undefined,
      requeuedAt: String(Date.now()),
    });
  }

  async getCustomer(key: string): Promise<CustomerRecord | undefined> {
    return parseCustomer(await this.redis.hgetall(this.keys.customer(key)));
  }

  /** Several customers in one round trip, in the order asked. */
  async getCustomers(keys: readonly string[]): Promise<(CustomerRecord | undefined)[]> {
    if (keys.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const key of keys) pipeline.hgetall(this.keys.customer(key));
    const replies = (await pipeline.exec()) ?? [];
    return replies.map(([err, raw]) => {
      if (err) throw err;
      return parseCustomer(raw as Record<string, string>);
    });
  }

  /**
   * The keys of customers submitted under this name (case-insensitive), newest batch first: an
   * operator names a customer by its name where its key is an external id. Reads every batch's
   * search texts, so it is for a command, not a page.
   */
  async keysByName(name: string): Promise<string[]> {
    const wanted = name.trim().toLowerCase();
    const found = new Set<string>();
    for (const id of await this.redis.zrevrange(this.keys.batches, 0, -1)) {
      const texts = await this.redis.hgetall(this.keys.batchSearchText(id));
      for (const [key, text] of Object.entries(texts)) if (text.split('\n')[1] === wanted) found.add(key);
    }
    return [...found];
  }

  async getBatch(id: string): Promise<BatchRecord | undefined> {
    const raw = await this.redis.hgetall(this.keys.batch(id));
    if (Object.keys(raw).length === 0) return undefined;
    const batch = batchRecordSchema.parse(raw);
    return { ...batch, ended: batch.queued + batch.running === 0 };
  }

  /** Newest first. */
  async listBatches(limit = 20): Promise<BatchRecord[]> {
    const ids = await this.redis.zrevrange(this.keys.batches, 0, limit - 1);
    const batches = await Promise.all(ids.map((id) => this.getBatch(id)));
    return batches.filter((b): b is BatchRecord => b !== undefined);
  }

  /**
   * Customers by state across the install: each customer is counted in the batch its record
   * belongs to, so the batches' counts add up to it (one pipeline per 1,000 batches).
   */
  async countCustomersByState(): Promise<Record<CustomerState, number>> {
    const totals: Record<CustomerState, number> = { queued: 0, running: 0, done: 0, failed: 0 };
    const ids = await this.redis.zrange(this.keys.batches, 0, -1);
    for (let start = 0; start < ids.length; start += 1000) {
      const pipeline = this.redis.pipeline();
      for (const id of ids.slice(start, start + 1000)) pipeline.hmget(this.keys.batch(id), ...CUSTOMER_STATES);
      for (const [err, counts] of (await pipeline.exec()) ?? []) {
        if (err) throw err;
        CUSTOMER_STATES.forEach((state, i) => (totals[state] += Number((counts as (string | null)[])[i] ?? 0)));
      }
    }
    return totals;
  }

  /**
   * A CSV batch's rows: how many, how many bad, and the first MAX_STORED_BAD_ROWS of them (line,
   * field, reason: the reasons name the rule broken, never the cell's value).
   */
  /** The rows of a batch's CSV file and its bad ones (first MAX_STORED_BAD_ROWS), as createBatch keeps them. */
  async recordCsvRows(id: string, rows: CsvRowsSummary): Promise<void> {
    const multi = this.redis.multi();
    this.addCsvRows(multi, id, rows);
    await multi.exec();
  }

  private addCsvRows(multi: ReturnType<RedisConnection['multi']>, id: string, rows: CsvRowsSummary): void {
    const kept = rows.badRows.slice(0, MAX_STORED_BAD_ROWS).map((row) => ({
      line: row.line,
      problems: row.problems.map((p) => ({ field: p.field, reason: p.reason.slice(0, MAX_STORED_REASON) })),
    }));
    multi
      .hset(this.keys.batch(id), { csvRows: rows.rows, csvBadRows: rows.badRowCount })
      .set(this.keys.batchBadRows(id), JSON.stringify(kept));
  }

  async csvBadRows(id: string): Promise<StoredBadRow[]> {
    const raw = await this.redis.get(this.keys.batchBadRows(id));
    const parsed = z.array(badRowSchema).safeParse(raw === null ? [] : JSON.parse(raw));
    return parsed.success ? parsed.data : [];
  }

  /** The customers submitted in a batch, in submission order, with what enqueueing did and their current record. */
  async batchCustomers(
    id: string,
  ): Promise<{ key: string; outcome: EnqueueOutcome; record: CustomerRecord | undefined }[]> {
    const [keys, outcomes] = await Promise.all([
      this.redis.zrange(this.keys.batchCustomers(id), 0, -1),
      this.redis.hgetall(this.keys.batchOutcomes(id)),
    ]);
    const records = await this.getCustomers(keys);
    return keys.map((key, i) => ({ key, outcome: (outcomes[key] ?? 'queued') as EnqueueOutcome, record: records[i] }));
  }

  /** Every customer with a record (SCAN, not a page's read): what `reconcile` checks. */
  async allCustomerKeys(): Promise<string[]> {
    const keys: string[] = [];
    const start = this.keys.customerPrefix.length;
    for await (const batch of scanKeys(this.redis, `${this.keys.customerPrefix}*`)) {
      for (const key of batch) keys.push(key.slice(start));
    }
    return keys.sort();
  }

  /**
   * Each customer any batch lists, with the newest such batch and its position there, recorded or
   * not: where `reconcile` learns a customer whose record a Redis failover lost.
   */
  async batchListedCustomers(): Promise<Map<string, { batchId: string; position: number }>> {
    const ids = await this.redis.zrange(this.keys.batches, 0, -1);
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.zrange(this.keys.batchCustomers(id), 0, -1, 'WITHSCORES');
    const replies = (await pipeline.exec()) ?? [];
    const listed = new Map<string, { batchId: string; position: number }>();
    replies.forEach(([err, flat], i) => {
      if (err) throw err;
      const pairs = flat as string[];
      for (let at = 0; at < pairs.length; at += 2)
        listed.set(pairs[at] as string, { batchId: ids[i] as string, position: Number(pairs[at + 1]) });
    });
    return listed;
  }

  /**
   * A record rebuilt from the API (`reconcile`: the tenant exists with this customer_id but the
   * record was lost, or says queued, running or failed): done, with the facts read back. A lost
   * record is first claimed in `batchId` as a chain with no job (the claim script keeps the batch's
   * counts and index), then moved to done; a crash in between leaves it queued with no job, which
   * the next reconcile heals again.
   */
  async healRecord(input: {
    key: string;
    batchId: string;
    position: number;
    name: string;
    steps: readonly StepName[];
    facts: ChainFacts;
    /** With several partners: the one whose tenants showed it. */
    partner?: string;
  }): Promise<Transition> {
    const { key, batchId } = input;
    if (!(await this.getCustomer(key))) {
      const runId = `heal-${randomBytes(4).toString('hex')}`;
      const fields = {
        name: input.name,
        steps: input.steps.join(','),
        ...(input.partner ? { partner: input.partner } : {}),
      };
      await this.claim({ batchId, key, runId, position: input.position, hasJob: true, fields });
    }
    return this.transition(key, 'done', ['queued', 'running', 'failed'], {
      facts: JSON.stringify(chainFactsSchema.parse(input.facts)),
      ...doneFields(),
    });
  }
}

/** What a record that reaches done says: its chain finished, no failure left on it. */
function doneFields(): Fields {
  return {
    step: 'finish',
    failedStep: undefined,
    error: undefined,
    errorRetryable: undefined,
    needsChange: undefined,
    finishedAt: new Date().toISOString(),
  };
}

/** What the batch page's search matches a customer by: its key (the external id) and name, lower-cased once here. */
export function searchText(key: string, name: string | undefined): string {
  return `${key}\n${name ?? ''}`.toLowerCase();
}

function parseCustomer(raw: Record<string, string>): CustomerRecord | undefined {
  return Object.keys(raw).length === 0 ? undefined : customerRecordSchema.parse(raw);
}
