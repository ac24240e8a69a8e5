import { createHash } from 'node:crypto';

/**
 * Every Redis key of an install, built from its QUEUE_PREFIX in this one place (as BullMQ's
 * queue-keys.ts does for its own). BullMQ keeps its queues under `<prefix>:<queue name>:…`.
 * docs/architecture.md "Redis keys" says what each key holds.
 */
export const QUEUE_NAMES = {
  onboarding: 'onboarding',
  callbacks: 'callbacks',
  intake: 'intake',
  writeBacks: 'write-backs',
  reconcile: 'reconcile',
} as const;

/** The keys of one source's intake (docs/sources.md "What is kept"). */
export interface SourceKeys {
  /** Hash: one event as received and its outcome; the id is a hash of the vendor's event id. */
  event(eventHash: string): string;
  /** Zset: the latest events' keys by arrival (ms). */
  events: string;
  /** Hash: events by outcome (received, onboarding, ignored, rejected, failed). */
  outcomes: string;
  /** The source API's shared rate-limit schedule (a request budget of its own). */
  budget: RequestBudgetKeys;
}

/** The keys of the shared access-token cache of one data centre, API client and secret. */
export interface TokenCacheKeys {
  token: string;
  lock: string;
  /** A failed issue by `owner`, read by the callers that waited on it. */
  failure(owner: string): string;
}

export interface RequestBudgetKeys {
  /** The shared send schedule: next free send time, pause generation, the rate plan. */
  schedule: string;
  /** Sorted set: send times of the last 2 s of grants. */
  grants: string;
  /** Sorted set: answer times of the last 2 s of 429s. */
  refusals: string;
  /** Pub/sub channel, not a key: the generation of each decision that voids reserved slots (a pause, a cut), as it is written. */
  decisions: string;
}

/** The install-wide metrics every process adds to and `serve` reads at a scrape. */
export interface MetricsKeys {
  /** Hash: API calls by endpoint and status, latency buckets and sums, grants, token issues, time paused. */
  counters: string;
  /** Until when the time paused is already counted, so overlapping pauses count once. */
  pausedUntil: string;
  /** Hash: calls to the sources' APIs (read-backs, write-backs) by `<source>|<call>|<result>`. */
  sourceCalls: string;
  /** Hash: sweeps by outcome (`ran`, `skipped`, `failed`), for `/metrics`. */
  sweeps: string;
}

export class RedisKeys {
  readonly requestBudget: RequestBudgetKeys;
  readonly metrics: MetricsKeys;
  /** Zset: each worker process, scored by when it last reported (ms). */
  readonly workersSeen: string;
  /** Failed dashboard sign-ins are counted under this followed by the caller's IP. */
  readonly signInFailuresPrefix: string;
  readonly batches: string;
  /** Batch hashes are this followed by the batch id (Lua scripts build the key of a batch they read from a customer). */
  readonly batchPrefix: string;
  /** Customer hashes are this followed by the customer key (the index script builds them from a batch's list). */
  readonly customerPrefix: string;
  /** After a batch's key: its customers zset (Lua builds it for a batch read from a customer). */
  readonly batchCustomersSuffix = ':customers';
  /** After a batch's key, then a view name: its index zsets (src/redis/lua/onboarding-index.lua). */
  readonly batchIndexSuffix = ':in:';

  constructor(readonly prefix: string) {
    this.requestBudget = {
      schedule: `${prefix}:acronis:budget`,
      grants: `${prefix}:acronis:budget:grants`,
      refusals: `${prefix}:acronis:budget:refusals`,
      decisions: `${prefix}:acronis:budget:decisions`,
    };
    this.batches = `${prefix}:onb:batches`;
    this.batchPrefix = `${prefix}:onb:batch:`;
    this.customerPrefix = `${prefix}:onb:customer:`;
    this.metrics = {
      counters: `${prefix}:metrics:acronis`,
      pausedUntil: `${prefix}:metrics:acronis:paused-until`,
      sourceCalls: `${prefix}:metrics:sources`,
      sweeps: `${prefix}:metrics:sweeps`,
    };
    this.workersSeen = `${prefix}:workers:seen`;
    this.signInFailuresPrefix = `${prefix}:dashboard:signin-failures:`;
  }

  /**
   * One cache per data centre, API client and secret, so a token issued for one secret never
   * vouches for another (a wrong or a replaced one must be refused, not ride on it). The key is
   * a hash: it names none of them in clear.
   */
  tokenCache(baseUrl: string, clientId: string, clientSecret: string): TokenCacheKeys {
    const secretFingerprint = createHash('sha256').update(clientSecret).digest('hex');
    const id = createHash('sha256').update(`${baseUrl}\n${clientId}\n${secretFingerprint}`).digest('hex').slice(0, 16);
    const token = `${this.prefix}:acronis:token:${id}`;
    return { token, lock: `${token}:lock`, failure: (owner) => `${token}:failed:${owner}` };
  }

  /**
   * The request budget of a data centre (docs/partners.md): the default partner's keeps the keys
   * of an install from before partners, so an upgrade keeps its learned rate; another's is its own.
   */
  requestBudgetFor(dataCenter: string, primary: boolean): RequestBudgetKeys {
    if (primary) return this.requestBudget;
    const schedule = `${this.prefix}:acronis:budget@${dataCenter}`;
    return {
      schedule,
      grants: `${schedule}:grants`,
      refusals: `${schedule}:refusals`,
      decisions: `${schedule}:decisions`,
    };
  }

  /** Matches every key of the install, BullMQ's included (its queues share the prefix): what the demo removes. */
  get installPattern(): string {
    return `${this.prefix}:*`;
  }

  /** Matches every token cache's hash and its locks and failure marks (SCAN with TYPE hash keeps the hashes). */
  get tokenCachePattern(): string {
    return `${this.prefix}:acronis:token:*`;
  }

  /** When the last full sweep ended (ms): a scheduled sweep is a full one once it is a week old. */
  get lastFullSweep(): string {
    return `${this.prefix}:drift:last-full-sweep`;
  }

  /** The one sweep running in the install (src/redis/lease.ts): who runs it, since when. */
  get sweepLease(): string {
    return `${this.prefix}:drift:sweep-lease`;
  }

  /** A lifecycle action's record (docs/lifecycle.md); the turn script builds it from this and an id. */
  get actionPrefix(): string {
    return `${this.prefix}:act:`;
  }

  action(id: string): string {
    return `${this.actionPrefix}${id}`;
  }

  /** A customer's actions waiting or running, in the order asked: the head has the turn. */
  actionTurns(customerKey: string): string {
    return `${this.prefix}:act-customer:${customerKey}:turns`;
  }

  /** Every action of a customer, by when asked (its timeline). */
  actionHistory(customerKey: string): string {
    return `${this.prefix}:act-customer:${customerKey}:history`;
  }

  /** A batch of actions (one CSV, one command) and its action ids in order. */
  actionBatch(id: string): string {
    return `${this.prefix}:act-batch:${id}`;
  }

  actionBatchActions(id: string): string {
    return `${this.prefix}:act-batch:${id}:actions`;
  }

  /** Action batch ids by creation time. */
  get actionBatches(): string {
    return `${this.prefix}:act-batches`;
  }

  /** Offboard action ids by when their tenant is to be deleted. */
  get pendingDeletions(): string {
    return `${this.prefix}:act-pending-deletions`;
  }

  customer(key: string): string {
    return `${this.customerPrefix}${key}`;
  }

  batch(id: string): string {
    return `${this.batchPrefix}${id}`;
  }

  batchCustomers(id: string): string {
    return `${this.batch(id)}${this.batchCustomersSuffix}`;
  }

  batchOutcomes(id: string): string {
    return `${this.batch(id)}:outcomes`;
  }

  /** The batch's customers in one view (a state, `unconfirmed`, `needs-change`, `elsewhere`), by position. */
  batchIndex(id: string, view: string): string {
    return `${this.batch(id)}${this.batchIndexSuffix}${view}`;
  }

  /** A view (or `all`) of the batch's customers of one partner (several partners: onboarding-index.lua). */
  batchPartnerIndex(id: string, view: string, partner: string): string {
    return `${this.batchIndex(id, view)}@${partner}`;
  }

  /** What the batch page's search looks in: each customer's key and name as submitted, lower-cased. */
  batchSearchText(id: string): string {
    return `${this.batch(id)}:search`;
  }

  /** The first bad rows of the batch's CSV file (line, field, reason), as JSON. */
  batchBadRows(id: string): string {
    return `${this.batch(id)}:bad-rows`;
  }

  offeringCache(name: string): { value: string; lock: string } {
    const value = `${this.prefix}:onb:cache:${name}`;
    return { value, lock: `${value}:lock` };
  }

  /** A value sealed with the install's SECRETS_KEY, opened by every command at start. */
  get secretsKeyCheck(): string {
    return `${this.prefix}:secrets:key-check`;
  }

  source(name: string): SourceKeys {
    const base = `${this.prefix}:src:${name}`;
    return {
      event: (eventHash) => `${base}:event:${eventHash}`,
      events: `${base}:events`,
      outcomes: `${base}:outcomes`,
      budget: {
        schedule: `${base}:budget`,
        grants: `${base}:budget:grants`,
        refusals: `${base}:budget:refusals`,
        decisions: `${base}:budget:decisions`,
      },
    };
  }

  /** Hash: a source customer's write-back: its source and record, state, attempts, last error. */
  writeBack(customerKey: string): string {
    return `${this.prefix}:src:write-back:${customerKey}`;
  }

  /** Hash: each customer's last finding by a reconcile sweep (JSON), by customer key (docs/reconcile.md). */
  get driftCustomers(): string {
    return `${this.prefix}:drift:customers`;
  }

  /** Zset: the customers whose last finding has a difference, by when checked (ms). */
  get driftDrifting(): string {
    return `${this.prefix}:drift:drifting`;
  }

  /** Hash: a batch's customers' funnel facts (created, activated, agent registered as `1`/`0` flags). */
  driftBatchFunnel(batchId: string): string {
    return `${this.prefix}:drift:funnel:${batchId}`;
  }

  /** String: the last sweep's summary (JSON). */
  get driftLastSweep(): string {
    return `${this.prefix}:drift:last-sweep`;
  }

  /** String: the last sweep's tenants listing `timestamp` (ms), what the next counts changed tenants from. */
  get driftCursor(): string {
    return `${this.prefix}:drift:cursor`;
  }

  /** The cursor of one partner's tenants (docs/reconcile.md "Several partners"); the default partner keeps `driftCursor`. */
  driftCursorOf(partner: string | undefined): string {
    return partner === undefined ? this.driftCursor : `${this.prefix}:drift:cursor:${partner}`;
  }

  webhookDelivery(deliveryId: string): string {
    return `${this.prefix}:webhook:delivery:${deliveryId}`;
  }

  /** Keyed by the hash of the signed content (timestamp and body). */
  webhookSigned(contentHash: string): string {
    return `${this.prefix}:webhook:signed:${contentHash}`;
  }
}
