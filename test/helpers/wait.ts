import { setTimeout as sleep } from 'node:timers/promises';

/** Polls a condition on real state (Redis, the simulator, a process) until it holds; fails naming what it waited for. */
export async function until(condition: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}
