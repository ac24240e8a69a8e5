import { setTimeout as sleep } from 'node:timers/promises';
import got from 'got';
import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import { defineScripts, type ScriptCommands } from '../redis-scripts.js';
import { VERSION } from '../version.js';
import type { BatchRecord, EnqueueOutcome, OnboardingStore } from '../workers/onboarding-store.js';
import { signPayload } from './webhook-signature.js';

/**
 * The webhook's `callback_url`: when a batch has ended, its summary is POSTed there, signed
 * like the webhook itself (X-Signature with WEBHOOK_SECRET, and WEBHOOK_SECRET_PREVIOUS as a
 * second v1 during a rotation) and with `X-Delivery-Id: callback-<batch id>`, the same on every
 * attempt, so the receiver can drop a repeat. Delivery is at least once: a receiver that
 * answered 2xx but whose answer was lost, or a server stopped mid-request, gets it again.
 *
 * Pending callbacks live in Redis, so a restarted `serve` still delivers them:
 *   P:webhook:callbacks             zset: batch id → when to look at it next (ms)
 *   P:webhook:callback:<batch id>   hash: url, attempts, registeredAt
 * Every `serve` process runs the loop; one that takes a callback to deliver pushes its time
 * LEASE_MS ahead first (one Lua call), so two processes do not both send it, and a process
 * that dies mid-delivery leaves it to another after the lease.
 */

export interface BatchSummary {
  event: 'batch.ended';
  batch_id: string;
  source: string;
  label: string;
  created_at: string;
  counts: { total: number; done: number; failed: number; skipped: number; moved: number };
  customers: CustomerSummary[];
}

/** What a sales system may see of a customer: ids and outcome. Never the password or the agent token. */
export interface CustomerSummary {
  customer: string;
  name: string;
  /** What submitting it did: queued, replaced, already-onboarded, already-queued. */
  submitted: EnqueueOutcome;
  state: string;
  failed_step: string | null;
  error: string | null;
  tenant_id: string | null;
  user_id: string | null;
  login: string | null;
  activation: string | null;
}

/** A delivery in progress holds its callback this long; after it another process may try. */
const LEASE_MS = 60_000;
/** A batch that ended while some of its customers run in another batch's chain is looked at again this many intervals later. */
const WAIT_FOR_OTHER_CHAINS_INTERVALS = 5;
/** Failed deliveries are tried again after 5 s, 10 s, 20 s … up to an hour apart. */
const FIRST_RETRY_MS = 5_000;
const MAX_RETRY_MS = 3_600_000;
/** About 15 hours of failed attempts before the callback is given up (and logged as an error). */
const MAX_ATTEMPTS = 24;
const BATCHES_PER_TICK = 100;

// Takes the callback if it is due: its score moves LEASE_MS ahead. ARGV: batch id, now, lease end.
const LEASE = `
local due = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not due or tonumber(due) > tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
`;

const SCRIPTS = { batchCallbackLease: { numberOfKeys: 1, lua: LEASE } } as const;

export interface BatchCallbacksOptions {
  redis: Redis;
  /** QUEUE_PREFIX. */
  prefix: string;
  store: OnboardingStore;
  /** Signing secrets, the current one first. */
  secrets: readonly string[];
  logger: Logger;
  /** How often pending batches are looked at. */
  pollIntervalMs?: number;
  /** Per HTTP attempt. */
  requestTimeoutMs?: number;
}

export class BatchCallbacks {
  private readonly scripts: ScriptCommands<typeof SCRIPTS>;
  private readonly zsetKey: string;
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private tickInProgress: Promise<void> | undefined;
  private redisWasDown = false;

  private get pollIntervalMs(): number {
    return this.opts.pollIntervalMs ?? 1000;
  }

  constructor(private readonly opts: BatchCallbacksOptions) {
    this.scripts = defineScripts(opts.redis, SCRIPTS);
    this.zsetKey = `${opts.prefix}:webhook:callbacks`;
  }

  private hashKey(batchId: string): string {
    return `${this.opts.prefix}:webhook:callback:${batchId}`;
  }

  /** Remembers that the batch's summary goes to `url` once it ends. */
  async register(batchId: string, url: string): Promise<void> {
    await this.opts.redis
      .multi()
      .hset(this.hashKey(batchId), { url, attempts: 0, registeredAt: new Date().toISOString() })
      .zadd(this.zsetKey, Date.now(), batchId)
      .exec();
  }

  /** Batch ids whose callback has not been delivered yet. */
  async pending(): Promise<string[]> {
    return this.opts.redis.zrange(this.zsetKey, 0, -1);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  /** Stops the loop; deliveries in flight are aborted and become due again at once (for the next process). */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    // A tick waits on Redis only, and fails fast when it is down; the bound covers a frozen Redis.
    await Promise.race([this.tickInProgress, sleep(3000, undefined, { ref: false })]);
    for (const { abort } of this.inFlight.values()) abort.abort();
    await Promise.all([...this.inFlight.values()].map((d) => d.done));
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.tickInProgress = this.tick()
        .catch((err: unknown) => this.noteRedisFailure(err))
        .finally(() => {
          this.tickInProgress = undefined;
          this.schedule(this.pollIntervalMs);
        });
    }, delayMs);
    this.timer.unref();
  }

  /** One pass: every due callback whose batch has settled is taken and sent. */
  async tick(): Promise<void> {
    const now = Date.now();
    const due = await this.opts.redis.zrangebyscore(this.zsetKey, '-inf', now, 'LIMIT', 0, BATCHES_PER_TICK);
    if (this.redisWasDown) {
      this.redisWasDown = false;
      this.opts.logger.info('callback loop: Redis answers again');
    }
    for (const batchId of due) {
      if (!this.running || this.inFlight.has(batchId)) continue;
      const summary = await this.settledSummary(batchId);
      if (summary === 'gone') {
        this.opts.logger.warn({ batchId }, 'callback dropped: its batch no longer exists');
        await this.forget(batchId);
        continue;
      }
      if (summary === 'not-ended') continue;
      if (summary === 'waiting') {
        await this.opts.redis.zadd(
          this.zsetKey,
          'XX',
          Date.now() + WAIT_FOR_OTHER_CHAINS_INTERVALS * this.pollIntervalMs,
          batchId,
        );
        continue;
      }
      if ((await this.scripts.batchCallbackLease(this.zsetKey, batchId, now, Date.now() + LEASE_MS)) !== 1) continue;
      const abort = new AbortController();
      const done = this.deliver(batchId, summary, abort.signal)
        // Only Redis can fail here (the HTTP outcome is handled inside): the lease runs out and it is tried again.
        .catch((err: unknown) => this.noteRedisFailure(err))
        .finally(() => this.inFlight.delete(batchId));
      this.inFlight.set(batchId, { abort, done });
    }
  }

  /**
   * The summary once the batch has ended and every customer it names has finished, including
   * those it found already queued in another batch's chain (the sender wants their outcome
   * too, not "still queued").
   */
  private async settledSummary(batchId: string): Promise<BatchSummary | 'gone' | 'not-ended' | 'waiting'> {
    const batch = await this.opts.store.getBatch(batchId);
    if (!batch) return 'gone';
    if (!batch.ended) return 'not-ended';
    const customers = await this.opts.store.batchCustomers(batchId);
    if (customers.some((c) => c.record !== undefined && c.record.state !== 'done' && c.record.state !== 'failed'))
      return 'waiting';
    return summarise(batch, customers);
  }

  private async deliver(batchId: string, summary: BatchSummary, signal: AbortSignal): Promise<void> {
    const log = this.opts.logger.child({ batchId });
    const fields = await this.opts.redis.hgetall(this.hashKey(batchId));
    const url = fields.url;
    if (!url) {
      await this.opts.redis.zrem(this.zsetKey, batchId);
      return;
    }
    const target = safeOrigin(url);
    const body = JSON.stringify(summary);
    let status: number;
    try {
      const response = await got.post(url, {
        body,
        headers: {
          'content-type': 'application/json',
          'user-agent': `acronis-onboard/${VERSION} (batch callback)`,
          'x-delivery-id': `callback-${batchId}`,
          'x-signature': signPayload(this.opts.secrets, body),
        },
        timeout: { request: this.opts.requestTimeoutMs ?? 10_000 },
        // A few quick tries for a blip; longer outages are the loop's business (and survive a restart).
        retry: { limit: 2, methods: ['POST'], maxRetryAfter: 30_000 },
        followRedirect: false,
        signal,
      });
      status = response.statusCode;
      // got counts a 3xx as success when redirects are not followed; a callback wants a 2xx.
      if (status < 200 || status > 299) throw new Error(`the receiver answered ${status}`);
    } catch (err) {
      if (signal.aborted) {
        // Stopped mid-request: due again now, for whichever process runs the loop next.
        await this.opts.redis.zadd(this.zsetKey, 'XX', Date.now(), batchId).catch(() => undefined);
        return;
      }
      const attempts = Number(fields.attempts ?? 0) + 1;
      const reason = (err as Error).message;
      if (attempts >= MAX_ATTEMPTS) {
        log.error({ target, attempts, reason }, 'batch callback given up');
        await this.forget(batchId).catch(() => undefined);
        return;
      }
      const delay = Math.min(FIRST_RETRY_MS * 2 ** (attempts - 1), MAX_RETRY_MS);
      log.warn({ target, attempts, retryInMs: delay, reason }, 'batch callback failed; will try again');
      await this.opts.redis
        .multi()
        .hset(this.hashKey(batchId), 'attempts', attempts)
        .zadd(this.zsetKey, 'XX', Date.now() + delay, batchId)
        .exec()
        .catch(() => undefined); // Redis down: the lease runs out and the callback is tried again
      return;
    }
    log.info({ target, status }, 'batch callback delivered');
    // If this fails (Redis down), the lease runs out and the receiver gets it again: at least once.
    await this.forget(batchId);
  }

  private async forget(batchId: string): Promise<void> {
    await this.opts.redis.multi().zrem(this.zsetKey, batchId).del(this.hashKey(batchId)).exec();
  }

  private noteRedisFailure(err: unknown): void {
    // Once per outage at warn; the loop keeps trying every interval.
    if (!this.redisWasDown)
      this.opts.logger.warn(
        { reason: (err as Error).message },
        'callback loop: cannot read pending callbacks; retrying',
      );
    this.redisWasDown = true;
  }
}

export function summarise(
  batch: BatchRecord,
  customers: Awaited<ReturnType<OnboardingStore['batchCustomers']>>,
): BatchSummary {
  return {
    event: 'batch.ended',
    batch_id: batch.id,
    source: batch.source,
    label: batch.label,
    created_at: batch.createdAt,
    counts: { total: batch.total, done: batch.done, failed: batch.failed, skipped: batch.skipped, moved: batch.moved },
    customers: customers.map(({ key, outcome, record }) => ({
      customer: key,
      name: record?.name ?? '',
      submitted: outcome,
      state: record?.state ?? 'unknown',
      failed_step: record?.state === 'failed' ? (record.failedStep ?? null) : null,
      error: record?.state === 'failed' ? (record.error ?? null) : null,
      tenant_id: record?.tenantId ?? null,
      user_id: record?.userId ?? null,
      login: record?.login ?? null,
      activation: record?.activation ?? null,
    })),
  };
}

/** Scheme, host and port only, for logs: a callback URL may carry credentials or tokens in its path or query. */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(unparsable URL)';
  }
}
