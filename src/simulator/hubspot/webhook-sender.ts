import { createHash, createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import got from 'got';

/**
 * How the simulated HubSpot posts its webhooks, as HubSpot documents (docs/sources.md "HubSpot"):
 * - `app`: a JSON array of up to 100 events, signed v3 (and v1 beside it, as HubSpot still
 *   sends); retried on connection failures, timeouts and any status but 400, 401, 403, 404, 405,
 *   up to 10 times, each retry's events with `attemptNumber` one higher and a fresh signature.
 * - `workflow`: the deal's JSON, signed v2 (or v1); retried on 5xx, 429 and timeouts, never after
 *   another 4xx. A 429's Retry-After is read as milliseconds, as HubSpot's workflow page says.
 * The signing is written here on its own, not shared with src/sources/hubspot, so a test that
 * verifies these requests checks one reading of the docs against another.
 */

export type WebhookMode = 'app' | 'workflow';

export interface WebhookOptions {
  targetUrl: string;
  clientSecret: string;
  mode: WebhookMode;
  /** The workflow action's signature version (v2 unless set). */
  workflowSignature?: 'v1' | 'v2';
  /** Delay before retry n (the last repeats); HubSpot waits minutes to hours, tests milliseconds. */
  retryDelaysMs?: number[];
  /** Retries after the first attempt: HubSpot makes up to 10 for app webhooks. */
  maxRetries?: number;
  /** How long an answer is waited for: 5 s for app webhooks, 30 s for workflows. */
  timeoutMs?: number;
  /** App webhooks: events posted within this window go in one request (up to 100). */
  batchWindowMs?: number;
  portalId?: number;
  appId?: number;
}

export interface DeliveryAttempt {
  attempt: number;
  status: number | 'timeout' | 'network';
  /** The receiver's answer body (its first 2,000 characters). */
  answer?: string;
  body: string;
  headers: Record<string, string>;
  at: number;
}

const NOT_RETRIED_APP = new Set([400, 401, 403, 404, 405]);

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The headers HubSpot adds to an app webhook: v3 with its timestamp, and v1 for older receivers. */
export function appSignatureHeaders(
  secret: string,
  url: string,
  body: string,
  now = Date.now(),
): Record<string, string> {
  const timestamp = String(now);
  // HubSpot signs the URI with these reserved characters unescaped (its v3 instructions list them).
  const uri = url.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (escape) => decodeURIComponent(escape));
  return {
    'x-hubspot-signature-v3': createHmac('sha256', secret)
      .update(`POST${uri}${body}${timestamp}`, 'utf8')
      .digest('base64'),
    'x-hubspot-request-timestamp': timestamp,
    'x-hubspot-signature': sha256Hex(secret + body),
    'x-hubspot-signature-version': 'v1',
  };
}

export function workflowSignatureHeaders(
  secret: string,
  url: string,
  body: string,
  version: 'v1' | 'v2',
): Record<string, string> {
  const signed = version === 'v2' ? `${secret}POST${url}${body}` : secret + body;
  return { 'x-hubspot-signature': sha256Hex(signed), 'x-hubspot-signature-version': version };
}

export interface AppEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  attemptNumber: number;
  objectId: number;
  propertyName?: string;
  propertyValue?: string;
  changeSource: string;
  sourceId?: string;
}

export class WebhookSender {
  readonly attempts: DeliveryAttempt[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private pending: AppEvent[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private nextEventId = 1;

  constructor(readonly options: WebhookOptions) {}

  get portalId(): number {
    return this.options.portalId ?? 62515;
  }

  /** Queues an app webhook event; it goes out with the others of its batch window. */
  queueEvent(
    event: Omit<AppEvent, 'eventId' | 'subscriptionId' | 'portalId' | 'appId' | 'attemptNumber'>,
    subscriptionId: number,
  ): void {
    this.pending.push({
      eventId: this.nextEventId++,
      subscriptionId,
      portalId: this.portalId,
      appId: this.options.appId ?? 54321,
      attemptNumber: 0,
      ...event,
    });
    if (this.pending.length >= 100) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.options.batchWindowMs ?? 0);
  }

  /** Posts the deal's JSON as a workflow's "Send a webhook" action does. */
  sendWorkflowBody(body: unknown): void {
    this.track(this.deliver(() => JSON.stringify(body), 'workflow'));
  }

  /** Posts the same events again with attemptNumber one higher, as HubSpot does when our answer never reached it. */
  redeliver(events: AppEvent[]): void {
    const again = events.map((event) => ({ ...event, attemptNumber: event.attemptNumber + 1 }));
    this.track(this.deliver(() => JSON.stringify(again), 'app', again));
  }

  /** Waits until every queued event and every retry has had its last answer. */
  async settled(): Promise<void> {
    if (this.flushTimer) this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, 100);
      this.track(this.deliver(() => JSON.stringify(batch), 'app', batch));
    }
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  private async deliver(bodyOf: () => string, mode: WebhookMode, events?: AppEvent[]): Promise<void> {
    const maxRetries = this.options.maxRetries ?? 10;
    for (let attempt = 0; ; attempt += 1) {
      // App webhooks: each retry's events carry the attempt number, so the bytes (and signature) change.
      const body =
        events && attempt > 0
          ? JSON.stringify(events.map((e) => ({ ...e, attemptNumber: e.attemptNumber + attempt })))
          : bodyOf();
      const { status, retryAfterMs } = await this.post(body, mode, attempt);
      if (!this.shouldRetry(status, mode) || attempt >= maxRetries) return;
      const delays = this.options.retryDelaysMs ?? [60_000];
      await sleep(retryAfterMs ?? delays[Math.min(attempt, delays.length - 1)]!);
    }
  }

  private shouldRetry(status: DeliveryAttempt['status'], mode: WebhookMode): boolean {
    if (typeof status !== 'number') return true;
    if (status >= 200 && status < 300) return false;
    if (mode === 'app') return !NOT_RETRIED_APP.has(status);
    return status === 429 || status >= 500;
  }

  private async post(
    body: string,
    mode: WebhookMode,
    attempt: number,
  ): Promise<{ status: DeliveryAttempt['status']; retryAfterMs?: number }> {
    const { targetUrl, clientSecret } = this.options;
    const headers = {
      'content-type': 'application/json',
      'user-agent': 'HubSpot Connect 2.0 (http://dev.hubspot.com/)',
      ...(mode === 'app'
        ? appSignatureHeaders(clientSecret, targetUrl, body)
        : workflowSignatureHeaders(clientSecret, targetUrl, body, this.options.workflowSignature ?? 'v2')),
    };
    const record = (status: DeliveryAttempt['status'], answer?: string) =>
      this.attempts.push({
        attempt,
        status,
        body,
        headers,
        at: Date.now(),
        ...(answer === undefined ? {} : { answer }),
      });
    try {
      const response = await got.post(targetUrl, {
        body,
        headers,
        throwHttpErrors: false,
        followRedirect: false,
        retry: { limit: 0 },
        timeout: { request: this.options.timeoutMs ?? (mode === 'app' ? 5000 : 30_000) },
      });
      record(response.statusCode, response.body.slice(0, 2000));
      const retryAfter = Number(response.headers['retry-after']);
      return {
        status: response.statusCode,
        retryAfterMs: response.statusCode === 429 && retryAfter >= 0 ? retryAfter : undefined,
      };
    } catch (error) {
      const status = (error as { name?: string }).name === 'TimeoutError' ? 'timeout' : 'network';
      record(status);
      return { status };
    }
  }
}
