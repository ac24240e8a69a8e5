import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchResults } from '../../src/workers/results.js';
import { dumpKeys } from '../helpers/redis.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'secrets' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

describe('secrets at rest and in logs', () => {
  it('no password, registration token, access token or client secret appears in clear in any Redis key or log line', async () => {
    const customers = [
      ...sampleCustomers(3, 'SecretPw', { activation: 'password' }),
      ...sampleCustomers(1, 'SecretGiven', { activation: 'password', password: 'Caller-Chosen-Pw-93!' }),
      ...sampleCustomers(2, 'SecretMail'),
    ];
    const { batch } = await t.enqueue(customers);
    expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 6, failed: 0 });

    const results = await batchResults(
      { store: t.pipeline.store, box: t.pipeline.box, dataCenterUrlFor: () => t.sim.url },
      batch.id,
    );
    const secrets = [
      t.sim.seed.clientSecret,
      ...results.flatMap((r) => [r.password, r.registration_token]).filter((s) => s !== ''),
      'Caller-Chosen-Pw-93!',
    ];
    // The access token the workers use, as the token cache hands it out.
    const accessTokens = [await t.workers[0]!.app.acronis.tokens.get()];
    expect(results.filter((r) => r.password !== '')).toHaveLength(4);
    expect(results.every((r) => r.registration_token !== '')).toBe(true);

    const redisText = await dumpKeys(t.redis, t.prefix);
    const logText = t.logs.join('');
    expect(redisText.length).toBeGreaterThan(10_000);
    expect(logText).toContain('step done');
    for (const secret of [...secrets, ...accessTokens]) {
      expect(redisText.includes(secret), `a secret (${secret.slice(0, 3)}…) is in Redis in clear`).toBe(false);
      expect(logText.includes(secret), `a secret (${secret.slice(0, 3)}…) is in the logs`).toBe(false);
    }
  });
});
