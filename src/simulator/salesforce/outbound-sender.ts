import { setTimeout as sleep } from 'node:timers/promises';
import got from 'got';
import type { FieldValue } from './store.js';

/**
 * How the simulated Salesforce sends outbound messages, as Salesforce documents
 * (docs/sources.md "Salesforce"): notifications queued and sent in SOAP messages of up to 100,
 * each message resent until the answer is a `notificationsResponse` with `<Ack>true</Ack>`, the
 * wait between tries doubling up to a ceiling (Salesforce: two hours), and dropped when 24 hours
 * old. A resend carries the same notification ids. The XML is written here on its own, not
 * shared with src/sources/salesforce, so a test checks one reading of the docs against another.
 */

export interface OutboundOptions {
  targetUrl: string;
  organizationId: string;
  /** The workflow rule's or Flow action's id (`04k…`). */
  actionId?: string;
  /** The session id sent when the outbound message is set to "Send Session ID". */
  sessionId?: string;
  /** Salesforce's exponential back-off, scaled for tests: the first wait, and its ceiling. */
  firstRetryMs?: number;
  maxRetryMs?: number;
  /** How old a message may get before it is dropped unacknowledged (Salesforce: 24 hours). */
  maxAgeMs?: number;
  /** Notifications queued within this window go in one message (up to 100). */
  batchWindowMs?: number;
  timeoutMs?: number;
  instanceUrl?: string;
}

export interface QueuedNotification {
  id: string;
  sObjectType: string;
  fields: Record<string, FieldValue>;
}

export interface OutboundAttempt {
  attempt: number;
  status: number | 'timeout' | 'network';
  acknowledged: boolean;
  notificationIds: string[];
  body: string;
  headers: Record<string, string>;
  /** The receiver's answer body (its first 2,000 characters). */
  answer?: string;
  at: number;
}

const ACK = /<(?:[A-Za-z_][\w.-]*:)?notificationsResponse\b[^>]*>\s*<(?:[A-Za-z_][\w.-]*:)?Ack>\s*true\s*<\//;

function xmlText(value: FieldValue): string {
  return String(value).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function outboundMessageXml(options: OutboundOptions, notifications: QueuedNotification[]): string {
  const base = options.instanceUrl ?? 'https://example.my.salesforce.com';
  const session = options.sessionId
    ? `<SessionId>${xmlText(options.sessionId)}</SessionId>`
    : '<SessionId xsi:nil="true"/>';
  const items = notifications.map((n) => {
    const fields = Object.entries(n.fields)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `<sf:${k}>${xmlText(v)}</sf:${k}>`)
      .join('');
    return (
      `<Notification><Id>${n.id}</Id>` +
      `<sObject xsi:type="sf:${n.sObjectType}" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">${fields}</sObject>` +
      `</Notification>`
    );
  });
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">` +
    `<soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">` +
    `<OrganizationId>${options.organizationId}</OrganizationId>` +
    `<ActionId>${options.actionId ?? '04k000000000001AAA'}</ActionId>${session}` +
    `<EnterpriseUrl>${base}/services/Soap/c/62.0/${options.organizationId.slice(0, 15)}</EnterpriseUrl>` +
    `<PartnerUrl>${base}/services/Soap/u/62.0/${options.organizationId.slice(0, 15)}</PartnerUrl>` +
    `${items.join('')}</notifications></soapenv:Body></soapenv:Envelope>`
  );
}

export class OutboundSender {
  readonly attempts: OutboundAttempt[] = [];
  /** Messages dropped after `maxAgeMs` without an acknowledgement. */
  readonly dropped: QueuedNotification[][] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private pending: QueuedNotification[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private readonly stopped = new AbortController();

  constructor(readonly options: OutboundOptions) {}

  queue(notification: QueuedNotification): void {
    this.pending.push(notification);
    if (this.pending.length >= 100) this.flush();
    else this.flushTimer ??= setTimeout(() => this.flush(), this.options.batchWindowMs ?? 0);
  }

  /** Sends these notifications again as one message, as Salesforce does when our acknowledgement never reached it. */
  redeliver(notifications: QueuedNotification[]): void {
    this.track(this.deliver(notifications));
  }

  /** No more resends (the org is going away): `settled` then waits only for the posts in flight. */
  stop(): void {
    this.stopped.abort();
  }

  /** Waits until every queued message has been acknowledged or dropped (or, after `stop`, its post has ended). */
  async settled(): Promise<void> {
    if (this.flushTimer) this.flush();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private flush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    while (this.pending.length > 0) this.track(this.deliver(this.pending.splice(0, 100)));
  }

  private track(delivery: Promise<void>): void {
    this.inFlight.add(delivery);
    void delivery.finally(() => this.inFlight.delete(delivery));
  }

  private async deliver(notifications: QueuedNotification[]): Promise<void> {
    const body = outboundMessageXml(this.options, notifications);
    const firstQueued = Date.now();
    let wait = this.options.firstRetryMs ?? 30_000;
    for (let attempt = 0; ; attempt += 1) {
      if (await this.post(body, notifications, attempt)) return;
      if (Date.now() + wait - firstQueued > (this.options.maxAgeMs ?? 24 * 3600_000)) {
        this.dropped.push(notifications);
        return;
      }
      const slept = await sleep(wait, true, { signal: this.stopped.signal }).catch(() => false);
      if (!slept) return;
      wait = Math.min(wait * 2, this.options.maxRetryMs ?? 2 * 3600_000);
    }
  }

  private async post(body: string, notifications: QueuedNotification[], attempt: number): Promise<boolean> {
    const headers = {
      'content-type': 'text/xml; charset=utf-8',
      soapaction: '""',
      'user-agent': 'acronis-onboard simulated Salesforce',
    };
    const record = (status: OutboundAttempt['status'], acknowledged: boolean, answer?: string) =>
      this.attempts.push({
        attempt,
        status,
        acknowledged,
        notificationIds: notifications.map((n) => n.id),
        body,
        headers,
        at: Date.now(),
        ...(answer === undefined ? {} : { answer }),
      });
    try {
      const response = await got.post(this.options.targetUrl, {
        body,
        headers,
        throwHttpErrors: false,
        followRedirect: false,
        retry: { limit: 0 },
        timeout: { request: this.options.timeoutMs ?? 60_000 },
      });
      const acknowledged = response.statusCode >= 200 && response.statusCode < 300 && ACK.test(response.body);
      record(response.statusCode, acknowledged, response.body.slice(0, 2000));
      return acknowledged;
    } catch (error) {
      record((error as { name?: string }).name === 'TimeoutError' ? 'timeout' : 'network', false);
      return false;
    }
  }
}
