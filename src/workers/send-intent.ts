import type { Job } from 'bullmq';
import type { Logger } from '../logger.js';
import type { ChainData, ChainFacts, Intent } from '../onboarding/chain.js';
import { reasonOf } from '../onboarding/errors.js';
import type { StepContext } from '../onboarding/step.js';
import type { RedisConnection } from '../redis/connection.js';
import { withScripts, type ScriptCommands } from '../redis/scripts.js';
import { announceAtSend, LockLostError } from './job-lock-guard.js';
import type { OnboardingQueue } from './queue.js';

/**
 * The write-ahead intent of a send that cannot be looked up afterwards (the activation e-mail)
 * means one thing: a request for it may have left. A re-run that finds it does not send again,
 * so an intent left by a run that sent nothing costs the customer their e-mail. Hence:
 * - it is written with the job's lock check in one Lua call, once the send's slot is due: it
 *   lands only while this run still holds the job, so no other run reads an intent of a run that
 *   stopped before its send, and nothing stands between the write and the request but the request;
 * - a copy of that call sent again after a reconnect that finds the lock gone takes its own
 *   first copy's write back (the script), and a write whose outcome is unknown (the call failed)
 *   is taken back by this run once Redis answers: it never sent;
 * - a take-back is a compare-and-set: only while the job's data is exactly what this run wrote.
 *   Data another run changed is left alone; that run may have read the intent already.
 * Any path where the request may have left keeps the intent: never a second e-mail.
 */
export class SendIntentStore {
  private readonly redis: RedisConnection & ScriptCommands;

  /**
   * `connection` is the step worker's own: BullMQ's lock renewals and stalled-job checks use it
   * too, so a call re-sent after a reconnect reaches Redis before this process's stalled check
   * can hand the job to another run.
   */
  constructor(
    connection: RedisConnection,
    private readonly queue: Pick<OnboardingQueue, 'toKey'>,
    private readonly lockDurationMs: number,
  ) {
    this.redis = withScripts(connection);
  }

  /** `data` over `previous`, only while `token` holds the job's lock (extended then); false when it does not. */
  async writeIfLocked(jobId: string, token: string, data: string, previous: string): Promise<boolean> {
    // BullMQ's own key names, as its extendLock builds them.
    const job = this.queue.toKey(jobId);
    const stalled = this.queue.toKey('stalled');
    const args = [token, this.lockDurationMs, jobId, data, previous];
    return (await this.redis.jobDataSetIfLocked(job, `${job}:lock`, stalled, ...args)) === 1;
  }

  /** `previous` again in place of `written`, unless the job's data changed since; true when taken back. */
  async takeBack(jobId: string, written: string, previous: string): Promise<boolean> {
    return (await this.redis.setFieldIfUnchanged(this.queue.toKey(jobId), 'data', written, previous)) === 1;
  }
}

export interface SendIntentRun {
  store: SendIntentStore;
  job: Pick<Job<ChainData>, 'data' | 'updateData'>;
  jobId: string;
  /** The run's lock token; undefined outside a worker (nothing to check: written as is). */
  token: string | undefined;
  logger: Logger;
  /** Keeps the intents in the facts the step records (step-run's checkpointed facts). */
  remember(facts: Partial<ChainFacts>): unknown;
}

/** `ctx.intendAtSend` and `ctx.withdraw` of one step run: `withdraw` takes back only what `intendAtSend` wrote. */
export function sendIntents(run: SendIntentRun): Pick<StepContext, 'intendAtSend' | 'withdraw'> {
  let written: { what: Intent; data: string; before: ChainData } | undefined;

  const write = async (what: Intent) => {
    const before = run.job.data;
    const intents = { ...before.facts.intents, [what]: new Date().toISOString() };
    const next: ChainData = { ...before, facts: { ...before.facts, intents } };
    const data = JSON.stringify(next);
    if (run.token === undefined) await run.job.updateData(next);
    else await writeIfLocked(run, run.token, data, JSON.stringify(before));
    written = { what, data, before };
    run.job.data = next;
    run.remember({ intents });
  };

  const withdraw = async (what: Intent) => {
    if (written?.what !== what) return;
    const { data, before } = written;
    written = undefined;
    if (!(await run.store.takeBack(run.jobId, data, JSON.stringify(before)))) {
      run.logger.warn({ intent: what }, 'intent not taken back: another run changed the job meanwhile');
      return;
    }
    run.job.data = before;
    run.remember({ intents: before.facts.intents ?? {} });
  };

  return { intendAtSend: (what, send) => announceAtSend(() => write(what), send), withdraw };
}

/** The write with the lock check; a lost lock or an unknown outcome leaves no intent this run could know of. */
async function writeIfLocked(run: SendIntentRun, token: string, data: string, previous: string): Promise<void> {
  let locked: boolean;
  try {
    locked = await run.store.writeIfLocked(run.jobId, token, data, previous);
  } catch (err) {
    // The write may have landed, but nothing was sent: take it back (on the worker's connection,
    // once Redis answers), then fail this attempt; the retry sends. An outage does not get here
    // (that connection sends a call again rather than fail it: the script's second branch); an
    // error reply does, or a connection closed at shutdown, where the take-back fails too.
    await run.store.takeBack(run.jobId, data, previous).catch((cause: unknown) => {
      const why =
        'the write of the intent failed and was not taken back: if it landed, the e-mail reads unconfirmed though nothing was sent';
      run.logger.warn({ jobId: run.jobId, err: reasonOf(cause) }, why);
    });
    throw err;
  }
  if (!locked) throw new LockLostError(run.jobId);
}
