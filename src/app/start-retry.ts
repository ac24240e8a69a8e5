import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from '../acronis/errors.js';
import type { Logger } from '../logger.js';
import { isRedisOutage } from '../redis/deadline.js';

/**
 * `work` and `serve` start before the data centre (or Redis) is up in a container start:
 * what they ask the API at start (the partner tenant, a token, the offer) is asked again with
 * backoff while the answer is transient, instead of exiting. What the API refuses for good (a
 * wrong client secret: 400/401 at /idp/token, an edition not offered) still stops the start.
 */
export interface StartRetryOptions {
  logger: Logger;
  /** Aborted by a stop signal: the wait ends at once with the signal's reason. None: Node's default (Ctrl-C ends it). */
  stop?: AbortSignal;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /**
   * One-shot commands (`import`): a blip is asked again, but a person waits at the terminal, so
   * after this long the last transient error is thrown. Unset: ask until the stop signal.
   */
  giveUpAfterMs?: number;
}

export async function retryAtStart<T>(what: string, attempt: () => Promise<T>, opts: StartRetryOptions): Promise<T> {
  const started = Date.now();
  let delayMs = opts.firstDelayMs ?? 1000;
  let warned = false;
  for (;;) {
    try {
      // A call that hangs (a data centre half up) must not hold a stop signal either.
      const value = await untilStopped(attempt(), opts.stop);
      if (warned) opts.logger.info(`${what}: answered after ${((Date.now() - started) / 1000).toFixed(1)} s`);
      return value;
    } catch (err) {
      if (!isRetryable(err) && !isRedisOutage(err)) throw err;
      if (opts.giveUpAfterMs !== undefined && Date.now() - started + delayMs > opts.giveUpAfterMs) throw err;
      if (!warned) opts.logger.warn(`${what} failed (${(err as Error).message}); ${untilWhen(opts.giveUpAfterMs)}`);
      warned = true;
    }
    await sleep(delayMs, undefined, opts.stop ? { signal: opts.stop } : {}).catch(() => {
      throw opts.stop?.reason as Error;
    });
    delayMs = Math.min(delayMs * 2, opts.maxDelayMs ?? 30_000);
  }
}

const untilWhen = (giveUpAfterMs: number | undefined) =>
  giveUpAfterMs === undefined
    ? 'trying again until it answers'
    : `trying again for up to ${Math.round(giveUpAfterMs / 1000)} s`;

/** `work`, or the stop signal's reason once it aborts; the listener goes with the race, so retries add none. */
function untilStopped<T>(work: Promise<T>, stop: AbortSignal | undefined): Promise<T> {
  if (!stop) return work;
  if (stop.aborted) return Promise.reject(stop.reason as Error);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(stop.reason as Error);
    stop.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([work, aborted]).finally(() => stop.removeEventListener('abort', onAbort));
}
