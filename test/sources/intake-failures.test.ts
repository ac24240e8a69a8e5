import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'bullmq';
import got from 'got';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { QUEUE_NAMES } from '../../src/redis/keys.js';
import { runIntake } from '../../src/sources/intake-job.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { SourceApiError, type SourceKind } from '../../src/sources/kind.js';
import { flattenFields } from '../../src/sources/record-fields.js';
import type { Source } from '../../src/sources/source-set.js';
import { enqueueCustomers } from '../../src/workers/enqueue.js';
import { intakeJobId, type IntakeJob } from '../../src/workers/source-queues.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * The intake job when the source's API refuses or keeps failing (docs/sources.md "Outcomes"): a
 * thin-event kind whose read-back calls a small HTTP API over loopback, real BullMQ and Redis. A
 * 4xx settles the event `failed` at once, a 5xx is retried and settles it `failed` on the last
 * attempt, a 5xx that passes onboards.
 */

/** What each record id answers, in turn (the last one repeats); counts the calls. */
const script = new Map<string, number[]>();
const calls = new Map<string, number>();
let api: Server;
let apiUrl: string;

const thinKind: SourceKind<Record<string, never>> = {
  kind: 'thin',
  settingsSchema: z.strictObject({}),
  secretNames: () => [],
  answers: { accepted: 200, unauthenticated: 401, unreadable: 400 },
  checkHeaders: () => ({ ok: true }),
  verify: () => Promise.resolve({ ok: true }),
  parse: () => ({ ok: true, events: [] }),
  async readBack(event, ctx) {
    await ctx.acquire();
    const response = await got(`${apiUrl}/records/${event.objectId}`, { throwHttpErrors: false, retry: { limit: 0 } });
    if (response.statusCode !== 200) {
      const status = response.statusCode;
      const retryable = status === 429 || status >= 500;
      throw new SourceApiError(ctx.source, 'GET /records/{id}', status, retryable, `answered ${status}`);
    }
    return { fields: flattenFields({ record: JSON.parse(response.body) as unknown }) };
  },
  writeBack: () => Promise.resolve(),
  checkApi: () => Promise.resolve(),
};

let t: TestPipeline;
let store: SourceIntakeStore;
let worker: Worker<IntakeJob>;

beforeAll(async () => {
  api = createServer((req, res) => {
    const id = (req.url ?? '').split('/').pop() ?? '';
    const n = calls.get(id) ?? 0;
    calls.set(id, n + 1);
    const answers = script.get(id) ?? [404];
    const status = answers[Math.min(n, answers.length - 1)] as number;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ name: `Thin ${id}`, email: `it@${id}.thin.example` }));
  });
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  t = await startTestPipeline({ label: 'intake-failures' });
  store = new SourceIntakeStore(t.redis, t.pipeline.keys);
  const source: Source = {
    config: {
      name: 'thin',
      file: 'thin.json',
      kind: 'generic',
      rate_limit: { per_second: 50 },
      trigger: { all: [] },
      mapping: { name: 'record.name', email: 'record.email' },
      settings: {},
    },
    kind: thinKind as unknown as SourceKind<unknown>,
    profile: STANDARD_PROFILE,
    profileSource: 'built-in standard',
    context: (logger) => ({ source: 'thin', settings: {}, secrets: {}, acquire: async () => {}, logger }),
  };
  const deps = { queue: t.pipeline.queue, store: t.pipeline.store, box: t.pipeline.box };
  const producer = {
    enqueue: (batch: Parameters<typeof enqueueCustomers>[1], requests: Parameters<typeof enqueueCustomers>[2]) =>
      enqueueCustomers(
        { ...deps, profile: STANDARD_PROFILE, partnerTenantId: t.sim.seed.partnerTenantId },
        batch,
        requests,
      ),
  };
  worker = new Worker<IntakeJob>(
    QUEUE_NAMES.intake,
    (job, _token, signal) =>
      runIntake(
        { sources: new Map([['thin', source]]), store, producer, writeBacks: t.pipeline.writeBacks, logger: t.logger },
        job,
        signal,
      ),
    { connection: t.pipeline.workerConnection(), prefix: t.prefix, concurrency: 4 },
  );
});
afterAll(async () => {
  await worker?.close();
  await t?.pipeline.intake.obliterate({ force: true }).catch(() => undefined);
  await t?.close();
  await new Promise((resolve) => api?.close(resolve));
});

async function send(objectId: string): Promise<StoredEvent> {
  const event = { eventId: `evt-${objectId}`, type: 'record.won', objectType: 'record', objectId, payload: {} };
  await store.record('thin', [event], Date.now());
  const eventHash = eventHashOf(event.eventId);
  await t.pipeline.intake.add(
    'intake',
    { source: 'thin', eventHash, event },
    { jobId: intakeJobId('thin', eventHash), attempts: 3, backoff: { type: 'fixed', delay: 50 } },
  );
  let stored: StoredEvent | undefined;
  await until(async () => {
    stored = await store.event('thin', eventHash);
    return stored !== undefined && stored.outcome !== 'received';
  }, `event of ${objectId} to be settled`);
  return stored as StoredEvent;
}

describe('the intake when the source API fails', () => {
  it('a 4xx is not retried: the event is failed at once, naming the endpoint and the status', async () => {
    script.set('gone', [404]);
    const event = await send('gone');
    expect(event).toMatchObject({ outcome: 'failed', reason: 'thin: GET /records/{id}: answered 404' });
    expect(calls.get('gone')).toBe(1);
  });

  it('a 5xx that lasts is retried, then the event is failed on the last attempt', async () => {
    script.set('down', [503]);
    const event = await send('down');
    expect(event).toMatchObject({ outcome: 'failed', reason: 'thin: GET /records/{id}: answered 503' });
    expect(calls.get('down')).toBe(3);
  });

  it('a 5xx that passes: the retry reads the record and onboards it', async () => {
    script.set('flaky', [500, 200]);
    const event = await send('flaky');
    expect(event).toMatchObject({ outcome: 'onboarding', customer: 'thin:flaky', enqueued: 'queued' });
    expect(calls.get('flaky')).toBe(2);
    expect(await t.pipeline.store.getCustomer('thin:flaky')).toMatchObject({ name: 'Thin flaky' });
  });
});
