/**
 * How fast a source's event is acknowledged (docs/sources.md "Answer fast, then work"): `serve`
 * in this process with one source per kind in a SOURCES_DIR of its own, its intake workers
 * running (they read back and enqueue while the events arrive; no step workers, so Acronis is
 * not called), real Redis. Each kind gets `rate` events per second, open loop (each sent at its
 * time whether the earlier ones were answered or not), for `seconds`, each a new deal signed as the
 * sender signs it; the latency is from send to answer on the client.
 *
 *   npm run bench:sources -- [rate=200] [seconds=10] [--no-intake]
 *
 * The kinds measured are those with a sender in KINDS below: generic (Standard Webhooks), HubSpot
 * (v3 app webhooks, the simulated HubSpot's signer) and ConnectWise PSA (callbacks signed by the
 * simulated ConnectWise's signer, the key URL pointing at it: the intake fetches the key once),
 * Autotask PSA and Pipedrive (bench/sources-autotask-pipedrive.ts), and Salesforce (outbound
 * messages of one notification each, as the simulated org writes them).
 * The 1,000 HubSpot deals won in one minute are bench/sources-hubspot-deals.ts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { join } from 'node:path';
import { signStandardWebhook } from '../src/sources/generic/standard-webhooks.js';
import { SourceIntakeStore } from '../src/sources/intake-store.js';
import { startHubSpotSimulator } from '../src/simulator/hubspot/index.js';
import { appSignatureHeaders } from '../src/simulator/hubspot/webhook-sender.js';
import { startConnectWiseSimulator } from '../src/simulator/connectwise/index.js';
import { signCallback } from '../src/simulator/connectwise/signing.js';
import { startSalesforceSimulator } from '../src/simulator/salesforce/index.js';
import { outboundMessageXml } from '../src/simulator/salesforce/outbound-sender.js';
import { startAutotaskAndPipedrive } from './sources-autotask-pipedrive.js';
import { startServeInProcess } from './serve-in-process.js';

const [rate = 200, seconds = 10] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'))
  .map(Number);
/** `--no-intake`: the intake queue paused, so only the request path runs (what answering costs alone). */
const intakeRunning = !process.argv.includes('--no-intake');
const GENERIC_SECRET = `whsec_${randomBytes(32).toString('base64')}`;
process.env.BENCH_SOURCES_GENERIC_SECRET = GENERIC_SECRET;
const HUBSPOT_SECRET = randomBytes(16).toString('hex');
const HUBSPOT_TOKEN = `pat-na1-${randomBytes(12).toString('hex')}`;
process.env.BENCH_SOURCES_HUBSPOT_SECRET = HUBSPOT_SECRET;
process.env.BENCH_SOURCES_HUBSPOT_TOKEN = HUBSPOT_TOKEN;
// The intake reads each deal back from it; the deals are not seeded, so those read-backs are
// refused (404) and settle `failed`: the answer to the event, measured here, does not wait on them.
const hubspot = await startHubSpotSimulator({ clientSecret: HUBSPOT_SECRET, accessToken: HUBSPOT_TOKEN });
const CW = {
  companyId: `cwbench${randomBytes(3).toString('hex')}`,
  publicKey: randomUUID(),
  privateKey: randomUUID(),
  clientId: randomUUID(),
};
process.env.BENCH_SOURCES_CW_COMPANY = CW.companyId;
process.env.BENCH_SOURCES_CW_PUBLIC = CW.publicKey;
process.env.BENCH_SOURCES_CW_PRIVATE = CW.privateKey;
process.env.BENCH_SOURCES_CW_CLIENT = CW.clientId;
// Its callbacks are signed with a registration's key, fetched by the intake from the key URL
// (once, then cached); its read-backs are refused (404, nothing seeded), like HubSpot's.
const connectwise = await startConnectWiseSimulator({ credentials: CW, rateLimitPerSecond: 10 });
const autotaskAndPipedrive = await startAutotaskAndPipedrive();
let serveUrl = '';

/** One source per kind: its file, and how one signed event of it is made. */
interface KindBench {
  source: string;
  file: Record<string, unknown>;
  request(i: number): { body: string; headers: Record<string, string> };
}

const KINDS: KindBench[] = [
  {
    source: 'bench-generic',
    file: {
      kind: 'generic',
      rate_limit: { per_second: 1000 },
      trigger: { all: [{ field: 'deal.status', equals: ['won'] }] },
      mapping: { name: 'company.name', email: 'contact.email' },
      settings: {
        auth: { scheme: 'standard-webhooks', secret_env: 'BENCH_SOURCES_GENERIC_SECRET' },
        object_id: 'deal_id',
      },
    },
    request(i) {
      const body = JSON.stringify({
        deal_id: `D-${i}`,
        deal: { status: 'won' },
        company: { name: `Bench Source ${i}` },
        contact: { email: `admin${i}@bench-sources.example` },
      });
      const id = `msg_${randomUUID()}`;
      const ts = Math.floor(Date.now() / 1000);
      const signature = signStandardWebhook(GENERIC_SECRET, id, ts, body);
      return {
        body,
        headers: {
          'content-type': 'application/json',
          'webhook-id': id,
          'webhook-timestamp': String(ts),
          'webhook-signature': signature,
        },
      };
    },
  },
  {
    source: 'bench-hubspot',
    file: {
      kind: 'hubspot',
      rate_limit: { per_second: 10 },
      trigger: { all: [{ field: 'deal.dealstage', equals: ['closedwon'] }] },
      mapping: { name: 'company.name', email: 'contact.email' },
      settings: {
        client_secret_env: 'BENCH_SOURCES_HUBSPOT_SECRET',
        access_token_env: 'BENCH_SOURCES_HUBSPOT_TOKEN',
        api_base_url: hubspot.url,
        signature_versions: ['v3'],
      },
    },
    request(i) {
      const body = JSON.stringify([
        {
          eventId: 1_000_000 + i,
          subscriptionId: 1,
          portalId: 1,
          appId: 1,
          occurredAt: Date.now(),
          subscriptionType: 'deal.propertyChange',
          attemptNumber: 0,
          objectId: 5_000_000 + i,
          propertyName: 'dealstage',
          propertyValue: 'closedwon',
          changeSource: 'CRM_UI',
        },
      ]);
      const url = `${serveUrl}/webhooks/sources/bench-hubspot`;
      return {
        body,
        headers: { 'content-type': 'application/json', ...appSignatureHeaders(HUBSPOT_SECRET, url, body) },
      };
    },
  },
  {
    source: 'bench-connectwise',
    file: {
      kind: 'connectwise',
      rate_limit: { per_second: 10 },
      trigger: { event_types: ['agreement/added'], all: [{ field: 'agreement.type', equals: ['Managed Backup'] }] },
      mapping: { name: 'company.name', email: 'contact.email' },
      settings: {
        api: {
          base_url: connectwise.apiUrl,
          company_id_env: 'BENCH_SOURCES_CW_COMPANY',
          public_key_env: 'BENCH_SOURCES_CW_PUBLIC',
          private_key_env: 'BENCH_SOURCES_CW_PRIVATE',
          client_id_env: 'BENCH_SOURCES_CW_CLIENT',
        },
        allow_insecure_test_host: true,
      },
    },
    request: connectwiseCallback,
  },
  ...autotaskAndPipedrive.kinds,
];

/** A callback as the simulated ConnectWise builds it (src/simulator/connectwise/callbacks.ts), for its one registration. */
function connectwiseCallback(i: number) {
  const entry = connectwise.world.callbacks[0]!;
  const agreementId = 7_000_000 + i;
  const query = new URLSearchParams({ companyName: connectwise.world.companyName, id: entry.keyId });
  const body = JSON.stringify({
    Action: 'added',
    CallbackObjectRecId: entry.id,
    CompanyId: connectwise.world.companyName,
    Entity: JSON.stringify({ id: agreementId, name: `Bench agreement ${i}`, type: { id: 1, name: 'Managed Backup' } }),
    FromUrl: connectwise.host,
    ID: agreementId,
    MemberId: 'simulator',
    MessageId: randomUUID(),
    Metadata: { key_url: `${connectwise.origin}/v4_6_release//system/callbackkey/index.rails?${query.toString()}` },
    PartnerId: null,
    ProductInstanceId: null,
    Type: 'agreement',
  });
  return {
    body,
    headers: { 'content-type': 'application/json', 'x-content-signature': signCallback(entry.signingKey, body) },
  };
}

// ---- Salesforce: one outbound message (one Opportunity notification) per event. The org id is
// checked, the token fetched once, the read-backs refused (404, nothing seeded) like HubSpot's.
const salesforce = await startSalesforceSimulator({ apiLimit: 10_000_000 });
process.env.BENCH_SOURCES_SF_CLIENT_ID = salesforce.clientId;
process.env.BENCH_SOURCES_SF_CLIENT_SECRET = salesforce.clientSecret;

function salesforceBench(): KindBench {
  // 15–18 letters and digits; the warm-up's negative numbers get their own suffix.
  const sfId = (prefix: string, i: number) =>
    `${prefix}${String(Math.abs(i)).padStart(12, '0')}${i < 0 ? 'WRM' : 'AAA'}`;
  return {
    source: 'bench-salesforce',
    file: {
      kind: 'salesforce',
      rate_limit: { per_second: 10 },
      trigger: { all: [{ field: 'opportunity.IsWon', equals: [true] }] },
      mapping: { name: 'account.Name', email: 'contact.Email' },
      settings: {
        organization_id: salesforce.organizationId,
        instance_url: salesforce.url,
        client_id_env: 'BENCH_SOURCES_SF_CLIENT_ID',
        client_secret_env: 'BENCH_SOURCES_SF_CLIENT_SECRET',
      },
    },
    request(i) {
      const notification = {
        id: sfId('04l', i),
        sObjectType: 'Opportunity',
        fields: { Id: sfId('006', i), IsWon: true },
      };
      const options = { targetUrl: '', organizationId: salesforce.organizationId, instanceUrl: salesforce.url };
      return {
        body: outboundMessageXml(options, [notification]),
        headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' },
      };
    },
  };
}
KINDS.push(salesforceBench());
// ---- end Salesforce

const dir = mkdtempSync(join(tmpdir(), 'bench-sources-'));
for (const k of KINDS) writeFileSync(join(dir, `${k.source}.json`), JSON.stringify(k.file));
const serve = await startServeInProcess('sources', { SOURCES_DIR: dir });
serveUrl = serve.server.url;
connectwise.registerCallback(`${serveUrl}/webhooks/sources/bench-connectwise`, ['agreement']);
const store = new SourceIntakeStore(serve.app.redis, serve.app.keys);
if (!intakeRunning) await serve.app.intake.pause();

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function send(k: KindBench, i: number): Promise<{ ms: number; status: number; error?: string }> {
  const { body, headers } = k.request(i);
  const started = performance.now();
  const response = await fetch(`${serve.server.url}/webhooks/sources/${k.source}`, { method: 'POST', headers, body });
  const answer = await response.text();
  const error = response.status >= 400 ? errorOf(answer) : undefined;
  return { ms: performance.now() - started, status: response.status, ...(error ? { error } : {}) };
}

/** The JSON answer's `error`, or the first 200 characters of another (a SOAP fault). */
function errorOf(answer: string): string {
  try {
    return (JSON.parse(answer) as { error?: string }).error ?? answer;
  } catch {
    return answer.slice(0, 200);
  }
}

/** Until every event the source recorded has an outcome (none left `received`), or 120 s. */
async function settledAll(source: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const counts = await store.outcomeCounts(source);
    const settled = Object.entries(counts).reduce((sum, [outcome, n]) => (outcome === 'received' ? sum : sum + n), 0);
    if (settled >= counts.received || Date.now() > deadline) return;
    await sleep(250);
  }
}

/** `rate` events a second for `seconds`, each at its own time. */
async function openLoop(k: KindBench, offset: number, forSeconds = seconds) {
  const total = rate * forSeconds;
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const errors = new Map<string, number>();
  // The one process serves, sends and runs the intake jobs: a stalled event loop delays every answer.
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const start = performance.now();
  const sends: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    sends.push(
      send(k, offset + i).then(({ ms, status, error }) => {
        latencies.push(ms);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (error) errors.set(`${status} ${error}`, (errors.get(`${status} ${error}`) ?? 0) + 1);
      }),
    );
  }
  await Promise.all(sends);
  loopDelay.disable();
  const took = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const loop = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
  return { total, took, latencies, statuses, errors, loop };
}

try {
  const before = loadavg();
  const rows = [];
  for (const [n, k] of (process.env.BENCH_REVERSE ? [...KINDS].reverse() : KINDS).entries()) {
    // Warm-up, not counted: a few alone, then one second at the rate. Without the second, the kind
    // measured first paid for the cold start (its code compiled, pools opened) and the loop stalls
    // it caused filled the 32 places of the in-flight cap: 503 "busy" (BENCHMARKS.md).
    for (let w = 0; w < 20; w++) await send(k, -1 - w - n * 1_000_000 - 500_000);
    await openLoop(k, n * 1_000_000 + 500_000, 1);
    const { total, took, latencies, statuses, errors, loop } = await openLoop(k, n * 1_000_000);
    for (const [error, count] of errors) console.log(`${String(k.file.kind)}: ${count} × ${error}`);
    const counts = await store.outcomeCounts(k.source);
    // Each kind is measured with the process to itself: the next waits until this one's intake
    // jobs have settled every event it recorded (else it pays for this kind's backlog).
    if (intakeRunning) await settledAll(k.source);
    rows.push({
      kind: k.file.kind,
      events: total,
      'sent/s': (total / took).toFixed(0),
      statuses: [...statuses].map(([s, c]) => `${s}×${c}`).join(' '),
      'p50 ms': percentile(latencies, 50).toFixed(1),
      'p95 ms': percentile(latencies, 95).toFixed(1),
      'p99 ms': percentile(latencies, 99).toFixed(1),
      'max ms': latencies.at(-1)!.toFixed(1),
      recorded: counts.received,
      'loop delay p99/max ms': `${loop.p99.toFixed(0)}/${loop.max.toFixed(0)}`,
    });
  }
  console.log(
    `sources: event acknowledged, ${rate} events/s per kind for ${seconds} s, open loop; serve in-process ${intakeRunning ? 'with its intake workers' : 'with the intake queue paused'}, no step workers`,
  );
  console.log(
    `machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}, ${new Date().toISOString().slice(0, 16)}Z, load average before ${before.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  console.table(rows);
} finally {
  await serve.close();
  await hubspot.close();
  await connectwise.close();
  await salesforce.close();
  await autotaskAndPipedrive.close();
  console.log(`simulated ConnectWise: signing key fetched ${connectwise.stats.keyFetches} time(s)`);
}
