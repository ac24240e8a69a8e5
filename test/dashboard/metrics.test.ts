import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardPipeline, type DashboardPipeline } from '../helpers/dashboard.js';
import { sampleCustomers } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

const METRICS_TOKEN = 'metrics-test-token-0123456789';
let t: DashboardPipeline;

beforeAll(async () => {
  t = await startDashboardPipeline({ label: 'dash-metrics', env: { METRICS_TOKEN } });
  // The workers run in an App of their own, as a separate `work` process would: their counts
  // reach /metrics (served by the server's App) only through Redis.
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

type Sample = { labels: Record<string, string>; value: number };

/** Prometheus text format → name → samples. */
function parse(text: string): Map<string, Sample[]> {
  const out = new Map<string, Sample[]>();
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]));
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), { labels, value: Number(m[3]) }]);
  }
  return out;
}

async function scrape(): Promise<Map<string, Sample[]>> {
  const response = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parse(await response.text());
}

const one = (m: Map<string, Sample[]>, name: string, labels: Record<string, string> = {}) =>
  m.get(name)?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

/** The simulator's own counts as `endpoint status` → n, and the same from /metrics. */
function simCalls(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [endpoint, byStatus] of Object.entries(t.sim.stats().byEndpoint)) {
    for (const [status, n] of Object.entries(byStatus)) out[`${endpoint} ${status}`] = n;
  }
  return out;
}
function metricCalls(m: Map<string, Sample[]>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of m.get('acronis_onboard_api_requests_total') ?? []) {
    out[`${s.labels.endpoint} ${s.labels.status}`] = s.value;
  }
  return out;
}

describe('GET /metrics', () => {
  it('answers 401 without a session or METRICS_TOKEN', async () => {
    expect((await fetch(`${t.url}/metrics`)).status).toBe(401);
    const wrong = await fetch(`${t.url}/metrics`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
    expect(wrong.status).toBe(401);
  });

  it('counts every API call the simulator saw, by endpoint and status, for a small batch (429s included)', async () => {
    // Three 429s on POST /tenants: scattered, so noise; the refused steps wait and carry on.
    t.sim.configure({ faults: [{ kind: '429', methods: ['POST'], path: '^/tenants$', times: 3 }] });
    const { batch } = await t.enqueue(sampleCustomers(3, 'Metrics', { activation: 'password' }));
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 3, failed: 0 });

    // Each process writes its counts once a second: wait for the workers' last write.
    let metrics = await scrape();
    await until(
      async () =>
        JSON.stringify(sortedKeys(metricCalls((metrics = await scrape())))) === JSON.stringify(sortedKeys(simCalls())),
      '/metrics to show the calls the simulator counted',
      10_000,
    ).catch(() => expect(sortedKeys(metricCalls(metrics))).toEqual(sortedKeys(simCalls())));

    const stats = t.sim.stats();
    expect(stats.total).toBeGreaterThan(3 * 8);
    expect(one(metrics, 'acronis_onboard_token_issues_total')).toBe(stats.tokenIssues);
    expect(one(metrics, 'acronis_onboard_rate_limited_total')).toBe(3);
    expect(one(metrics, 'acronis_onboard_budget_grants_total')).toBe(stats.total);
    // Scattered 429s are noise: nobody else paused (docs/resilience.md "429s: noise or a limit").
    expect(one(metrics, 'acronis_onboard_rate_limit_paused_seconds_total') ?? 0).toBe(0);
    for (const [endpoint, byStatus] of Object.entries(stats.byEndpoint)) {
      const calls = Object.values(byStatus).reduce((a, b) => a + b, 0);
      const count = one(metrics, 'acronis_onboard_api_request_duration_seconds_count', { endpoint });
      expect(count, `latency observations of ${endpoint}`).toBe(calls);
      const inf = one(metrics, 'acronis_onboard_api_request_duration_seconds_bucket', { endpoint, le: '+Inf' });
      expect(inf).toBe(calls);
    }
  });

  it('shows step jobs by queue and state, customers by state and the workers seen', async () => {
    const metrics = await scrape();
    const steps = 7; // the standard profile: no set-pricing
    expect(one(metrics, 'acronis_onboard_step_jobs', { queue: 'onboarding', state: 'completed' })).toBe(3 * steps);
    expect(one(metrics, 'acronis_onboard_step_jobs', { queue: 'onboarding', state: 'failed' })).toBe(0);
    expect(one(metrics, 'acronis_onboard_step_jobs', { queue: 'callbacks', state: 'waiting' })).toBe(0);
    expect(one(metrics, 'acronis_onboard_customers', { state: 'done' })).toBe(3);
    expect(one(metrics, 'acronis_onboard_customers', { state: 'failed' })).toBe(0);
    expect(one(metrics, 'acronis_onboard_workers_seen')).toBe(1);
  });

  it('labels nothing with a partner or data centre in an install with one partner', async () => {
    const metrics = await scrape();
    const labelled = [...metrics.values()].flat().filter((s) => 'partner' in s.labels || 'data_center' in s.labels);
    expect(metrics.get('acronis_onboard_api_requests_total')?.length).toBeGreaterThan(0);
    expect(labelled).toEqual([]);
  });
});

function sortedKeys(record: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}
