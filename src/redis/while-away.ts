import { setTimeout as sleep } from 'node:timers/promises';
import { isRedisOutage } from './deadline.js';

/**
 * Reads of a command that follows work across a Redis restart (`import --wait`, the demo). Their
 * connection fails fast (src/redis/connection.ts), so a read made while Redis is away, or one in
 * flight when it went, is refused at once (ioredis' "Stream isn't writeable", or
 * MaxRetriesPerRequestError once the reconnect after the drop fails too): these helpers decide
 * what such a refusal means. The outage itself is told once, by src/redis/availability.ts.
 */

/** `read`'s answer, or undefined when Redis is away: the caller keeps what it had and reads again later. */
export async function skippedWhileAway<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await read();
  } catch (err) {
    if (isRedisOutage(err)) return undefined;
    throw err;
  }
}

/**
 * `read`'s answer, asked again every `everyMs` while Redis is away, however long that is;
 * undefined once `signal` aborts (Ctrl-C). An error that is not an outage is thrown as it is.
 */
export async function untilRedisAnswers<T>(
  read: () => Promise<T>,
  opts: { signal: AbortSignal; everyMs?: number },
): Promise<T | undefined> {
  while (!opts.signal.aborted) {
    const answer = await skippedWhileAway(async () => ({ value: await read() }));
    if (answer) return answer.value;
    await sleep(opts.everyMs ?? 500, undefined, { signal: opts.signal }).catch(() => undefined);
  }
  return undefined;
}
