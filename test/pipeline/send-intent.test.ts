import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerKeyOf, type CustomerRequest } from '../../src/onboarding/customer-request.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { startFreezableLink, type FreezableLink } from '../helpers/frozen-link.js';
import { expectEachOnboardedOnce, sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';

/**
 * The activation e-mail's intent means "a request for it may have left": a re-run that finds it
 * records email-unconfirmed and sends nothing. Here Redis goes away for the workers (their link
 * to it is cut) at the intent's write and comes back once the job's lock has expired, so the job
 * runs again as stalled: a run that never sent must leave no intent, and the re-run sends the one
 * e-mail. The producers and the test read the same Redis directly.
 */
let t: TestPipeline;
let link: FreezableLink;

beforeAll(async () => {
  link = await startFreezableLink();
  t = await startTestPipeline({ label: 'send-intent' });
  await t.startWorkers({ redisUrl: link.url });
});
afterAll(async () => {
  await link?.restore();
  await t?.close();
  await link?.close();
});

/** The activation intent in the job's data as sent to Redis (an ISO time; the profile's own `activation` is a word). */
const ACTIVATION_INTENT = '"activation":"2';

const activationJobKey = (customer: CustomerRequest) =>
  t.pipeline.queue.toKey(jobIdFor(customerKeyOf(customer), 'activate-user'));

/** Redis away for the workers until the activation job's lock has expired, then back. */
async function outageOutlastingTheLock(customer: CustomerRequest): Promise<void> {
  await link.cut();
  const lock = `${activationJobKey(customer)}:lock`;
  await until(async () => (await t.redis.exists(lock)) === 0, "the activation job's lock to expire", 30_000);
  await link.restore();
}

async function onboarded(customer: CustomerRequest, batchId: string) {
  expect(await t.waitForBatch(batchId), 'the batch').toMatchObject({ done: 1, failed: 0 });
  const { user } = expectEachOnboardedOnce(t.sim.state(), [customer])[0]!;
  const record = await t.pipeline.store.getCustomer(customerKeyOf(customer));
  return { emails: user.activation_emails_sent, activation: record?.facts.activation };
}

describe("Redis away at the activation e-mail's intent", () => {
  it('the write held up by the outage reaches Redis after the lock expired: not written, the re-run sends the one e-mail', async () => {
    const [customer] = sampleCustomers(1, 'Held') as [CustomerRequest];
    const frozen = link.freezeAt(ACTIVATION_INTENT, 'before');
    const { batch } = await t.enqueue([customer]);
    await frozen;
    // ioredis sends the write again once the link is back: it lands when the job is no longer this run's.
    await outageOutlastingTheLock(customer);
    expect(await onboarded(customer, batch.id)).toEqual({ emails: 1, activation: 'email-sent' });
  });

  it('the write carried out but its answer lost: sent again after the lock expired, it takes itself back; the re-run sends the one e-mail', async () => {
    const [customer] = sampleCustomers(1, 'Lost') as [CustomerRequest];
    const frozen = link.freezeAt(ACTIVATION_INTENT, 'after');
    const { batch } = await t.enqueue([customer]);
    await frozen;
    const data = () => t.redis.hget(activationJobKey(customer), 'data');
    await until(async () => (await data())?.includes(ACTIVATION_INTENT) === true, 'the intent to reach Redis', 10_000);
    await outageOutlastingTheLock(customer);
    expect(await onboarded(customer, batch.id)).toEqual({ emails: 1, activation: 'email-sent' });
  });

  it('after the send: the intent stays, and the admin gets one e-mail, never two', async () => {
    const [customer] = sampleCustomers(1, 'Sent') as [CustomerRequest];
    // The line the step logs once the API took the e-mail.
    const frozen = link.freezeAt('activation e-mail queued for', 'before');
    const { batch } = await t.enqueue([customer]);
    await frozen;
    await outageOutlastingTheLock(customer);
    const outcome = await onboarded(customer, batch.id);
    expect(outcome.emails).toBe(1);
    // The re-run finds the intent (unconfirmed), unless the first run handed over before it started.
    expect(['email-sent', 'email-unconfirmed']).toContain(outcome.activation);
  });
});
