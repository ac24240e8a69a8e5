import { setTimeout as sleep } from 'node:timers/promises';

/**
 * How a simulated vendor posts its webhooks (used by the simulated Autotask and Pipedrive): one
 * POST per event to the subscriber, waiting up to `timeoutMs`; without a 2xx it is posted again
 * after each of `retryDelaysMs` (the vendor's schedule, shortened in tests). Each attempt's body
 * and headers come from `request(attempt)`, since some vendors number their attempts in the body.
 */

export interface OutboundWebhook {
  url: string;
  /** One per attempt: the HTTP status, or the network error's name. */
  attempts: Array<number | string>;
  /** The first attempt's exact request, what a test replays or tampers with. */
  body: string;
  headers: Record<string, string>;
  request(attempt: number): { body: string; headers: Record<string, string> };
}

export class OutboundWebhooks {
  readonly sent: OutboundWebhook[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly stopped = new AbortController();

  constructor(private readonly options: { retryDelaysMs: number[]; timeoutMs: number }) {}

  send(url: string, request: OutboundWebhook['request']): OutboundWebhook {
    const first = request(1);
    const webhook: OutboundWebhook = { url, attempts: [], body: first.body, headers: first.headers, request };
    this.sent.push(webhook);
    this.track(this.deliver(webhook));
    return webhook;
  }

  /** Posts it once more, as the vendor's retry would (the next attempt number). */
  redeliver(webhook: OutboundWebhook): void {
    this.track(this.attempt(webhook).then(() => undefined));
  }

  stop(): void {
    this.stopped.abort();
  }

  /** Resolves when no webhook is in flight (retries included). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async deliver(webhook: OutboundWebhook): Promise<void> {
    if (await this.attempt(webhook)) return;
    for (const delay of this.options.retryDelaysMs) {
      try {
        await sleep(delay, undefined, { signal: this.stopped.signal });
      } catch {
        return;
      }
      if (await this.attempt(webhook)) return;
    }
  }

  private async attempt(webhook: OutboundWebhook): Promise<boolean> {
    const { body, headers } = webhook.request(webhook.attempts.length + 1);
    try {
      const response = await fetch(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.arrayBuffer();
      webhook.attempts.push(response.status);
      return response.status >= 200 && response.status < 300;
    } catch (error) {
      webhook.attempts.push(error instanceof Error ? error.name : 'error');
      return false;
    }
  }
}
