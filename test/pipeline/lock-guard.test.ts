import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcronisApiError } from '../../src/acronis/errors.js';
import { LockLostError, runInJobScope } from '../../src/workers/job-lock-guard.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * The API client as the app wires it (budget, grant counting, lock guard): a change sent inside
 * a step whose job's lock is gone is stopped before it reaches the API; with the lock held it goes out.
 */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'lock-guard' });
});
afterAll(async () => {
  await t?.close();
});

const ENDPOINT = 'POST /users/{user_id}/send-activation-email';
const sent = () => Object.values(t.sim.stats().byEndpoint[ENDPOINT] ?? {}).reduce((a, b) => a + b, 0);

describe("the job-lock guard in the app's API client", () => {
  it('a lost lock stops a change before it is sent', async () => {
    t.sim.resetStats();
    const lost = async () => {
      throw new LockLostError('c-test.activate-user');
    };
    const send = runInJobScope({ rank: 1, assertLock: lost }, () =>
      t.pipeline.acronis.sendActivationEmail(randomUUID()),
    );
    await expect(send).rejects.toBeInstanceOf(LockLostError);
    expect(sent()).toBe(0);
  });

  it('with the lock held the same change reaches the API', async () => {
    t.sim.resetStats();
    const held = async () => undefined;
    const send = runInJobScope({ rank: 1, assertLock: held }, () =>
      t.pipeline.acronis.sendActivationEmail(randomUUID()),
    );
    // An unknown user: the API answers, which is all this needs.
    await expect(send).rejects.toBeInstanceOf(AcronisApiError);
    expect(sent()).toBe(1);
  });
});
