import type { Queue } from 'bullmq';
import type { RedisConnection } from '../redis/connection.js';
import {
  AggregatorRegistry,
  Counter,
  Gauge,
  Registry,
  type MetricObjectWithValues,
  type MetricValue,
} from 'prom-client';
import {
  LATENCY_BUCKETS,
  readCallMetrics,
  type CallMetrics,
  type CallMetricsSnapshot,
  type ClientCounts,
} from '../acronis/call-metrics.js';
import type { RedisKeys } from '../redis/keys.js';
import type { DriftStore } from '../reconcile/drift-store.js';
import type { SourceIntakeStore } from '../sources/intake-store.js';
import { workersSeen } from '../workers/heartbeat.js';
import type { OnboardingStore } from '../workers/onboarding-store.js';

/**
 * `GET /metrics` for the whole install, whichever `serve` answers: the queue and customer
 * gauges are read from Redis at the scrape, and the API counters are the ones every process
 * writes to Redis (src/acronis/call-metrics.ts). prom-client renders them; the latency
 * histogram, whose buckets come summed from Redis, goes through its AggregatorRegistry, which
 * takes metrics in the JSON form `getMetricsAsJSON()` produces.
 */
const NS = 'acronis_onboard';

export interface MetricsSources {
  queues: readonly Queue[];
  /** With several partners: each data centre's step queue name → its data centre (a `data_center` label). */
  queueDataCenters?: ReadonlyMap<string, string>;
  store: OnboardingStore;
  redis: RedisConnection;
  keys: RedisKeys;
  /** This process's own counts, written before the read so they are in this scrape. */
  callMetrics: CallMetrics;
  /** What reconcile sweeps found (docs/reconcile.md "Metrics"). */
  drift: Pick<DriftStore, 'lastSweep' | 'driftingCount'>;
  /** The configured sources' names and their intake store; absent or empty, no source metrics. */
  sources?: { names: readonly string[]; store: SourceIntakeStore };
}

export async function scrapeMetrics(sources: MetricsSources): Promise<{ contentType: string; text: string }> {
  await sources.callMetrics.flush();
  const [api, jobCounts, customers, workers] = await Promise.all([
    readCallMetrics(sources.redis, sources.keys.metrics),
    Promise.all(sources.queues.map(async (queue) => ({ queue: queue.name, counts: await queue.getJobCounts() }))),
    sources.store.countCustomersByState(),
    workersSeen(sources.redis, sources.keys.workersSeen),
  ]);
  const registry = new Registry();
  const jobs = gauge(registry, 'step_jobs', 'Jobs by queue and BullMQ state', ['queue', 'state', 'data_center']);
  for (const { queue, counts } of jobCounts) {
    const dataCenter = sources.queueDataCenters?.get(queue);
    const labels = { queue, ...(dataCenter ? { data_center: dataCenter } : {}) };
    for (const [state, n] of Object.entries(counts)) jobs.set({ ...labels, state }, n);
  }
  const byState = gauge(registry, 'customers', 'Customers by onboarding state (each in its current batch)', ['state']);
  for (const [state, n] of Object.entries(customers)) byState.set({ state }, n);
  gauge(registry, 'workers_seen', 'Worker processes that reported in the last minute', []).set(workers);
  apiCounters(registry, api);
  if (sources.sources) await sourceCounters(registry, sources.sources);
  await sweepMetrics(registry, sources);
  const merged = AggregatorRegistry.aggregate([await registry.getMetricsAsJSON(), [latencyHistogram(api)]]);
  return { contentType: merged.contentType, text: await merged.metrics() };
}

/**
 * The API counters; with several partners (docs/partners.md) each series has a `partner` label,
 * the partner whose client made the call. A series without one is from before the install had
 * several (shown while it counts anything, or while no partner series exists).
 */
function apiCounters(registry: Registry, api: CallMetricsSnapshot): void {
  const calls = counter(registry, 'api_requests_total', 'Acronis API requests by endpoint and status', [
    'endpoint',
    'status',
    'partner',
  ]);
  for (const { endpoint, status, count, partner } of api.calls)
    calls.inc({ endpoint, status, ...partnerLabel(partner) }, count);
  const perClient: [string, string, keyof ClientCounts][] = [
    ['token_issues_total', 'Access tokens issued (POST /idp/token answered 2xx)', 'tokenIssues'],
    ['rate_limited_total', 'Acronis API answers 429 Too Many Requests', 'rateLimited'],
    ['budget_grants_total', 'Request slots the shared request budget granted', 'grants'],
    [
      'budget_late_sends_total',
      'Requests written out later than the budget allows after their slot (each took a later slot out of the schedule)',
      'lateSends',
    ],
  ];
  const partners = Object.entries(api.byPartner);
  for (const [name, help, field] of perClient) {
    const metric = counter(registry, name, help, ['partner']);
    if (partners.length === 0 || api[field] > 0) metric.inc(api[field]);
    for (const [partner, counts] of partners) metric.inc({ partner }, counts[field]);
  }
  counter(
    registry,
    'rate_limit_paused_seconds_total',
    'Time every worker was paused after a 429 (overlaps counted once)',
    [],
  ).inc(api.pausedSeconds);
}

const partnerLabel = (partner: string | undefined) => (partner === undefined ? {} : { partner });

/**
 * Events by source and outcome (`received` counts every event), and the calls to the sources' APIs.
 * The labels are the source's name (a file name, a–z, digits, `-`), the call and an HTTP status:
 * nothing a source file keeps secret can reach them.
 */
async function sourceCounters(
  registry: Registry,
  { names, store }: NonNullable<MetricsSources['sources']>,
): Promise<void> {
  const [outcomes, calls] = await Promise.all([
    Promise.all(names.map(async (source) => ({ source, counts: await store.outcomeCounts(source) }))),
    store.callCounts(),
  ]);
  const events = counter(registry, 'source_events_total', 'Source events by source and outcome', ['source', 'outcome']);
  for (const { source, counts } of outcomes) {
    for (const [outcome, n] of Object.entries(counts)) events.inc({ source, outcome }, n);
  }
  const callCounter = counter(registry, 'source_calls_total', "Calls to the sources' APIs by source, call and result", [
    'source',
    'call',
    'result',
  ]);
  for (const { source, call, result, count } of calls) callCounter.inc({ source, call, result }, count);
}

/**
 * Customers by drift kind as the last sweep counted them, the customers drifting now, the last
 * sweep's cost, and sweeps by outcome (`ran`, `skipped` while another held the lease, `failed`).
 */
async function sweepMetrics(registry: Registry, sources: MetricsSources): Promise<void> {
  const [last, drifting, outcomes] = await Promise.all([
    sources.drift.lastSweep(),
    sources.drift.driftingCount(),
    sources.redis.hgetall(sources.keys.metrics.sweeps),
  ]);
  const sweeps = counter(registry, 'sweeps_total', 'Reconcile sweeps by outcome (ran, skipped, failed)', ['outcome']);
  for (const outcome of ['ran', 'skipped', 'failed']) sweeps.inc({ outcome }, Number(outcomes[outcome] ?? 0));
  gauge(registry, 'drift_customers_drifting', 'Customers whose last finding differs from their profile', []).set(
    drifting,
  );
  if (!last) return;
  const byKind = gauge(registry, 'drift_customers', 'Customers by drift kind, as the last sweep counted them', [
    'kind',
  ]);
  for (const [kind, n] of Object.entries(last.byKind)) byKind.set({ kind }, n);
  const single: [string, string, number][] = [
    ['sweep_last_duration_seconds', 'How long the last sweep took', (last.finishedAt - last.startedAt) / 1000],
    ['sweep_last_calls', 'Acronis API calls the last sweep made, listing pages included', last.calls],
    ['sweep_last_listing_pages', 'Pages of the tenants listing the last sweep read', last.listingPages],
    ['sweep_last_healed', 'Records the last sweep rebuilt from the API', last.healed],
    ['sweep_last_end_timestamp_seconds', 'When the last sweep ended (Unix time)', last.finishedAt / 1000],
  ];
  for (const [name, help, value] of single) gauge(registry, name, help, []).set(value);
  gauge(
    registry,
    'sweep_last_full',
    'Whether the last sweep read every customer (1) or only the changed ones (0)',
    [],
  ).set(last.mode === 'full' ? 1 : 0);
}

function latencyHistogram(api: CallMetricsSnapshot): MetricObjectWithValues<MetricValue<string>> {
  const name = `${NS}_api_request_duration_seconds`;
  const values = api.latency.flatMap(({ endpoint, partner, buckets, sumSeconds }) => {
    const labels = { endpoint, ...partnerLabel(partner) };
    let cumulative = 0;
    const bucketValues = buckets.map((n, i) => {
      cumulative += n;
      const le = i < LATENCY_BUCKETS.length ? LATENCY_BUCKETS[i]! : '+Inf';
      return { metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative };
    });
    return [
      ...bucketValues,
      { metricName: `${name}_sum`, labels, value: sumSeconds },
      { metricName: `${name}_count`, labels, value: cumulative },
    ];
  });
  return {
    name,
    help: 'Acronis API request latency by endpoint, seconds',
    type: 'histogram',
    aggregator: 'sum',
    values,
  } as unknown as MetricObjectWithValues<MetricValue<string>>;
}

function gauge(registry: Registry, name: string, help: string, labelNames: string[]): Gauge {
  return new Gauge({ name: `${NS}_${name}`, help, labelNames, registers: [registry] });
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  return new Counter({ name: `${NS}_${name}`, help, labelNames, registers: [registry] });
}
