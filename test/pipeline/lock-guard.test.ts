import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcronisApiError } from '../../src/acronis/errors.js';
import { App } from '../../src/app/app.js';
import { announceAtSend, LockLostError, runInJobScope } from '../../src/workers/job-lock-guard.js';
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
const callsTo = (endpoint: string) =>
  Object.values(t.sim.stats().byEndpoint[endpoint] ?? {}).reduce((a, b) => a + b, 0);
const sent = () => callsTo(ENDPOINT);
const issued = () => callsTo('POST /idp/token');

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

/**
 * The activation e-mail's intent (announceAtSend): written once the send has its slot and the
 * lock is checked, right before it goes out; never for a send a lost lock stopped.
 */
describe('an intent announced at the send', () => {
  it('is not written when the lock was lost while the send waited for its slot', async () => {
    t.sim.resetStats();
    const written: string[] = [];
    const lost = async () => {
      throw new LockLostError('c-test.activate-user');
    };
    const send = runInJobScope({ rank: 1, assertLock: lost }, () =>
      announceAtSend(
        async () => void written.push('intent'),
        () => t.pipeline.acronis.sendActivationEmail(randomUUID()),
      ),
    );
    await expect(send).rejects.toBeInstanceOf(LockLostError);
    expect(written).toEqual([]);
    expect(sent()).toBe(0);
  });

  it('is written once, after the lock check, before the request reaches the API', async () => {
    t.sim.resetStats();
    const order: string[] = [];
    const held = async () => void order.push('lock checked');
    const send = runInJobScope({ rank: 1, assertLock: held }, () =>
      announceAtSend(
        async () => void order.push(`intent (API saw ${sent()})`),
        () => t.pipeline.acronis.sendActivationEmail(randomUUID()),
      ),
    );
    await expect(send).rejects.toBeInstanceOf(AcronisApiError);
    // Checked before the wait; the intent's write checks the lock itself (src/workers/send-intent.ts).
    // A slot that came due late on a busy machine goes back in line and is checked again, so
    // the check may run more than once; the intent is written once, last, before the API saw it.
    expect(order.at(-1)).toBe('intent (API saw 0)');
    expect(order.slice(0, -1).length).toBeGreaterThanOrEqual(1);
    expect(new Set(order.slice(0, -1))).toEqual(new Set(['lock checked']));
    expect(sent()).toBe(1);
  });

  it('is not spent on the token issue the send needs first', async () => {
    // A process with no token yet, and none in Redis: its first change issues one before it goes out.
    const { token } = t.pipeline.keys.tokenCache(
      t.config.ACRONIS_BASE_URL!,
      t.config.ACRONIS_CLIENT_ID!,
      t.config.ACRONIS_CLIENT_SECRET!,
    );
    await t.pipeline.redis.del(token);
    const fresh = await App.open(t.config, { logger: t.logger });
    try {
      t.sim.resetStats();
      const order: string[] = [];
      const send = runInJobScope({ rank: 1, assertLock: async () => undefined }, () =>
        announceAtSend(
          async () => void order.push(`intent (tokens issued ${issued()}, e-mails ${sent()})`),
          () => fresh.acronis.sendActivationEmail(randomUUID()),
        ),
      );
      await expect(send).rejects.toBeInstanceOf(AcronisApiError);
      expect(order).toEqual(['intent (tokens issued 1, e-mails 0)']);
      expect(sent()).toBe(1);
    } finally {
      await fresh.close();
    }
  });
});
