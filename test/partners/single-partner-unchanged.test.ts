import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProducer } from '../../src/app/producer.js';
import { scrapeMetrics } from '../../src/dashboard/metrics.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * An install configured the old way (ACRONIS_BASE_URL, ACRONIS_CLIENT_ID…, no PARTNERS_FILE)
 * keeps what it had before partners (docs/partners.md): its queue, its budget's keys, its records
 * and its labels. A running install upgraded in place must find its jobs and its schedule where
 * they were; this fails if the partners' work renamed any of them.
 */
let t: TestPipeline;
const customers = sampleCustomers(4, 'Old');

beforeAll(async () => {
  t = await startTestPipeline({ label: 'one-partner' });
  await t.startWorkers();
  const producer = await openProducer(t.pipeline, { profile: STANDARD_PROFILE });
  const { batch } = await producer.enqueue({ source: 'test', label: 'old install' }, customers);
  expect(await t.waitForBatch(batch.id)).toMatchObject({ total: 4, done: 4, failed: 0 });
  expectEachOnboardedOnce(t.sim.state(), customers);
});
afterAll(async () => {
  await t?.close();
});

async function keysOfInstall(): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await t.redis.scan(cursor, 'MATCH', `${t.prefix}:*`, 'COUNT', 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

describe('an install without a partners file, as before partners', () => {
  it('works in the one queue `onboarding`, under `<prefix>:onboarding:…`', async () => {
    expect(t.pipeline.partnerNames).toEqual(['default']);
    expect(t.pipeline.queues.map((q) => q.name)).toEqual(['onboarding']);
    expect(t.workers[0]?.workers.map((w) => w.name)).toEqual(['onboarding']);
    const keys = await keysOfInstall();
    expect(keys).toContain(`${t.prefix}:onboarding:meta`);
    expect(keys.filter((k) => k.startsWith(`${t.prefix}:onboarding.`))).toEqual([]);
  });

  it('keeps its request budget under `<prefix>:acronis:budget`', async () => {
    const schedule = `${t.prefix}:acronis:budget`;
    const named = [schedule, `${schedule}:grants`, `${schedule}:refusals`];
    const budgetKeys = (await keysOfInstall()).filter((k) => k.startsWith(schedule));
    expect(budgetKeys).toContain(schedule);
    expect(budgetKeys).toContain(`${schedule}:grants`);
    for (const key of budgetKeys) expect(named).toContain(key);
    expect(await t.redis.type(schedule)).toBe('hash');
  });

  it('names no partner in its records, its jobs, its logs or its metrics', async () => {
    for (const c of customers) {
      const fields = await t.redis.hgetall(`${t.prefix}:onb:customer:${c.external_id}`);
      expect(fields.state).toBe('done');
      expect(Object.keys(fields)).not.toContain('partner');
    }
    const batches = await t.redis.zrange(`${t.prefix}:onb:batches`, 0, -1);
    for (const id of batches)
      expect(Object.keys(await t.redis.hgetall(`${t.prefix}:onb:batch:${id}`))).not.toContain('partner');
    const jobs = await t.pipeline.queue.getJobs(['completed']);
    expect(jobs.length).toBeGreaterThanOrEqual(4 * 6);
    for (const job of jobs) expect(JSON.stringify(job.data)).not.toMatch(/"partner"/);

    const logs = t.logs.join('');
    expect(logs).toContain('workers started');
    expect(logs).not.toMatch(/"partner"|"dataCenter"/);

    const { text } = await scrapeMetrics({
      queues: [t.pipeline.queue, t.pipeline.callbacks],
      store: t.pipeline.store,
      redis: t.redis,
      keys: t.pipeline.keys,
      callMetrics: t.pipeline.callMetrics,
      drift: t.pipeline.drift,
    });
    expect(text).toContain('acronis_onboard_step_jobs{queue="onboarding"');
    expect(text).not.toMatch(/partner|data_?cent(er|re)/i);
  });
});
