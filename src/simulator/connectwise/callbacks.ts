import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { signCallback } from './signing.js';
import type { ConnectWiseWorld, SimCallbackEntry } from './world.js';

/**
 * Sends callbacks as ConnectWise does: one POST per matching registration, the record as a JSON
 * string in `Entity`, `Metadata.key_url` pointing at the registration's signing key, the raw body
 * signed in `x-content-signature`. A delivery that does not get a 2xx is sent again, byte for
 * byte, after each configured delay (ConnectWise publishes no schedule: the delays are an
 * assumption, docs/simulator.md).
 */

export interface CallbackDelivery {
  messageId: string;
  type: string;
  action: string;
  objectId: number;
  url: string;
  /** One per attempt: the HTTP status, or the network error's name. */
  attempts: Array<number | string>;
  body: string;
  signature: string;
}

export interface DispatcherOptions {
  /** The address the key URL names: the simulator's own origin. */
  origin: () => string;
  codebase: string;
  /** Delays before each retry; its length is the number of retries. */
  retryDelaysMs: number[];
  timeoutMs: number;
}

export class CallbackDispatcher {
  readonly deliveries: CallbackDelivery[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly stopped = new AbortController();

  constructor(
    private readonly world: ConnectWiseWorld,
    private readonly options: DispatcherOptions,
  ) {}

  /** Posts `entity` to every active registration of `type` at owner level (or on this object). */
  emit(type: string, action: 'added' | 'updated' | 'deleted', objectId: number, entity: unknown): CallbackDelivery[] {
    const matching = this.world.callbacks.filter(
      (c) => !c.inactiveFlag && c.type === type && (c.level === 'owner' || c.objectId === objectId),
    );
    return matching.map((entry) => this.send(this.build(entry, type, action, objectId, entity)));
  }

  /** Sends a delivery's exact bytes again, as a vendor retry would. */
  redeliver(delivery: CallbackDelivery): void {
    this.track(this.attempt(delivery).then(() => undefined));
  }

  /** Stops waiting retries (the simulator is closing); attempts under way finish. */
  stop(): void {
    this.stopped.abort();
  }

  /** Resolves when every delivery in flight (retries included) has finished. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  keyUrl(entry: SimCallbackEntry): string {
    const query = new URLSearchParams({ companyName: this.world.companyName, id: entry.keyId });
    return `${this.options.origin()}/${this.options.codebase}//system/callbackkey/index.rails?${query.toString()}`;
  }

  private build(
    entry: SimCallbackEntry,
    type: string,
    action: string,
    objectId: number,
    entity: unknown,
  ): CallbackDelivery {
    const messageId = randomUUID();
    // Key order as a live instance sends it (test/fixtures/sources/connectwise/callback-*.json).
    const body = JSON.stringify({
      Action: action,
      CallbackObjectRecId: entry.id,
      CompanyId: this.world.companyName,
      Entity: action === 'deleted' ? null : JSON.stringify(entity),
      FromUrl: new URL(this.options.origin()).host,
      ID: objectId,
      MemberId: 'simulator',
      MessageId: messageId,
      Metadata: { key_url: this.keyUrl(entry) },
      PartnerId: null,
      ProductInstanceId: null,
      Type: type,
    });
    return {
      messageId,
      type,
      action,
      objectId,
      url: entry.url,
      attempts: [],
      body,
      signature: signCallback(entry.signingKey, body),
    };
  }

  private send(delivery: CallbackDelivery): CallbackDelivery {
    this.deliveries.push(delivery);
    this.track(this.deliver(delivery));
    return delivery;
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async deliver(delivery: CallbackDelivery): Promise<void> {
    if (await this.attempt(delivery)) return;
    for (const delay of this.options.retryDelaysMs) {
      try {
        await sleep(delay, undefined, { signal: this.stopped.signal });
      } catch {
        return;
      }
      if (await this.attempt(delivery)) return;
    }
  }

  private async attempt(delivery: CallbackDelivery): Promise<boolean> {
    try {
      const response = await fetch(delivery.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-content-signature': delivery.signature },
        body: delivery.body,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      await response.arrayBuffer();
      delivery.attempts.push(response.status);
      return response.status >= 200 && response.status < 300;
    } catch (error) {
      delivery.attempts.push(error instanceof Error ? error.name : 'error');
      return false;
    }
  }
}
