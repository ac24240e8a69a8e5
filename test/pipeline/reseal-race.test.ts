import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChainData } from '../../src/onboarding/chain.js';
import { createSecretBox, customerField, generateSecretsKey } from '../../src/secrets/secret-box.js';
import { resealAll, type ResealDeps } from '../../src/workers/reseal.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * `reseal` beside running steps: a step that records facts or checkpoints its job between
 * reseal's read and its write must keep what it wrote (a lost tenant id or intent would undo
 * the look-before-create that keeps a customer from being made twice).
 */
let t: TestPipeline;
let key: string;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'reseal-race' });
  await t.startWorkers();
  const { batch, customers } = await t.enqueue(sampleCustomers(1, 'ResealRace', { activation: 'password' }));
  expect(await t.waitForBatch(batch.id)).toMatchObject({ done: 1, failed: 0 });
  await Promise.all(t.workers.splice(0).map((w) => w.close(2000)));
  key = customers[0]!.key;
});
afterAll(async () => {
  await t?.close();
});

describe('reseal while a step writes', () => {
  it('keeps a step write made between its read and its write, and still reseals what was there', async () => {
    const box = createSecretBox(generateSecretsKey(), t.config.SECRETS_KEY);
    const store = t.pipeline.store;
    const lastStep = t.pipeline.queue;
    const jobId = jobIdFor(key, 'finish');
    const customerHash = t.pipeline.keys.customer(key);
    const jobHash = lastStep.toKey(jobId);
    const wrote = new Set<string>();
    const deps: ResealDeps = {
      redis: t.pipeline.redis,
      keys: t.pipeline.keys,
      queues: [t.pipeline.queue],
      callbacks: t.pipeline.callbacks,
      box,
      // Once per place, as a running step would: the record's facts and the job's checkpoint.
      beforeWrite: async (hashKey) => {
        if (wrote.has(hashKey)) return;
        wrote.add(hashKey);
        if (hashKey === customerHash) {
          const record = await store.getCustomer(key);
          await store.recordFacts(key, { ...record!.facts, roles: ['company_admin', 'written-meanwhile'] });
        }
        if (hashKey === jobHash) {
          const job = (await lastStep.getJob(jobId))!;
          await job.updateData({ ...job.data, facts: { ...job.data.facts, roles: ['written-meanwhile'] } });
        }
      },
    };
    const report = await resealAll(deps);

    expect([...wrote]).toEqual(expect.arrayContaining([customerHash, jobHash]));
    const record = (await store.getCustomer(key))!;
    expect(record.facts.roles).toContain('written-meanwhile');
    const job = (await lastStep.getJob(jobId))!;
    expect((job.data as ChainData).facts.roles).toEqual(['written-meanwhile']);
    // Read again and resealed: nothing is left under the old key, and it all opens.
    expect(report).toMatchObject({ left: 0, unreadable: 0, keyCheckRenewed: true });
    expect(box.needsReseal(record.facts.passwordSealed!)).toBe(false);
    expect(box.needsReseal((job.data as ChainData).facts.tokenSealed!)).toBe(false);
    expect(box.open(record.facts.passwordSealed!, customerField(key, 'password'))).toHaveLength(20);
  });
});
