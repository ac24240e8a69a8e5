/**
 * One load process of bench/client-throughput.ts: `concurrency` loops of GET /tenants/{id}
 * through the real client (token cache in Redis, got, zod) until `durationMs` is over; prints
 * one JSON line with its count, errors and latencies.
 */
import { Redis } from 'ioredis';
import { createAcronisClient } from '../src/acronis/client.js';
import { RedisKeys } from '../src/redis/keys.js';
import { createSecretBox } from '../src/secrets/secret-box.js';

const [baseUrl, clientId, clientSecret, tenantId, prefix, secretsKey, concurrency, durationMs] = process.argv.slice(2);
const redis = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const client = createAcronisClient({
  baseUrl: baseUrl!,
  clientId: clientId!,
  clientSecret: clientSecret!,
  redis,
  box: createSecretBox(secretsKey!),
  tokenKeys: new RedisKeys(prefix!).tokenCache(baseUrl!, clientId!, clientSecret!),
});

const latencies: number[] = [];
let errors = 0;
const deadline = Date.now() + Number(durationMs);
async function loop(): Promise<void> {
  while (Date.now() < deadline) {
    const started = performance.now();
    try {
      await client.getTenant(tenantId!);
      latencies.push(performance.now() - started);
    } catch {
      errors++;
    }
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, loop));
console.log(JSON.stringify({ count: latencies.length, errors, latencies }));
redis.disconnect();
