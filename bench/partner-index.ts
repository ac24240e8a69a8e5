/**
 * What the batch page's per-partner views cost (docs/architecture.md "The onboarding store"):
 * the same batch of N customers written twice through the onboarding store's Lua scripts
 * (test/helpers/batch-seed.ts: claims, then each customer moved to its state), once as an install
 * with one partner records it, once with every record naming one of two partners, which keeps
 * each view per partner too; then each listing the batch page reads is asked R times through
 * the batch index (src/workers/batch-index.ts), timed in this process. Real Redis, a prefix of
 * its own, removed at the end.
 *
 *   npx tsx bench/partner-index.ts [customers=10000] [requests=200]
 */
import { loadavg } from 'node:os';
import { randomUUID } from 'node:crypto';
import { RedisKeys } from '../src/redis/keys.js';
import { BatchIndex, type BatchPageQuery } from '../src/workers/batch-index.js';
import { OnboardingStore } from '../src/workers/onboarding-store.js';
import { seedBatch } from '../test/helpers/batch-seed.js';
import { connectTestRedis, removeKeys } from '../test/helpers/redis.js';

const [customers = 10_000, requests = 200] = process.argv.slice(2).map(Number);
const prefix = `bench-partner-index-${randomUUID().slice(0, 8)}`;
const redis = connectTestRedis('redis://127.0.0.1:6379');
const keys = new RedisKeys(prefix);
const store = new OnboardingStore(redis, keys);
const index = new BatchIndex(redis, keys, store);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function seeded(label: string, partnerOf?: (i: number) => string) {
  const started = performance.now();
  const id = await seedBatch(
    store,
    { source: 'csv', label },
    { customers, prefix: label, ...(partnerOf ? { partnerOf } : {}) },
  );
  return { id, seconds: (performance.now() - started) / 1000 };
}

async function timed(batchId: string, query: Partial<BatchPageQuery>) {
  const full: BatchPageQuery = { filter: 'all', page: 1, pageSize: 50, failedFirst: false, ...query };
  for (let i = 0; i < 5; i++) await index.page(batchId, full);
  const times: number[] = [];
  let matched = 0;
  for (let i = 0; i < requests; i++) {
    const started = performance.now();
    matched = (await index.page(batchId, full)).matched;
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { matched, 'p50 ms': percentile(times, 50).toFixed(2), 'p95 ms': percentile(times, 95).toFixed(2) };
}

try {
  const loadBefore = loadavg().map((l) => l.toFixed(2));
  const one = await seeded('one');
  const two = await seeded('two', (i) => (i % 2 === 0 ? 'dc1' : 'dc2'));
  console.log(`customers ${customers}, requests ${requests}, load before ${loadBefore.join(' ')}`);
  console.log(
    `seed (claims + moves): one partner ${one.seconds.toFixed(2)} s, two partners ${two.seconds.toFixed(2)} s`,
  );
  console.table({
    'one partner: all': await timed(one.id, {}),
    'one partner: failed': await timed(one.id, { filter: 'failed' }),
    'one partner: done, page 50': await timed(one.id, { filter: 'done', page: 50 }),
    'two partners: all': await timed(two.id, {}),
    'two partners: dc2': await timed(two.id, { partner: 'dc2' }),
    'two partners: dc2, failed': await timed(two.id, { partner: 'dc2', filter: 'failed' }),
    'two partners: dc2, done, page 50': await timed(two.id, { partner: 'dc2', filter: 'done', page: 50 }),
    'two partners: dc2, search': await timed(two.id, { partner: 'dc2', search: 'customer 4243 ' }),
  });
  console.log(
    `load after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
} finally {
  await removeKeys(redis, prefix);
  redis.disconnect();
}
