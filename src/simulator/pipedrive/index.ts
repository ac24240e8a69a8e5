import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { RollingWindow } from '../hubspot/rate-window.js';
import { OutboundWebhooks, type OutboundWebhook } from '../outbound-webhooks.js';
import { buildPipedriveServer, type PipedriveServerState } from './server.js';
import { OWNER_ID, PipedriveWorld, type SimDeal, type SimWebhook } from './world.js';

/**
 * A simulated Pipedrive for tests, the demo and benches (docs/simulator.md "Simulated
 * Pipedrive"): start it on port 0, register a webhook (with its Basic credentials), then
 * `addDeal` and `setDealStatus` to make it post its webhooks v2, thin as Pipedrive's (the deal
 * names its organization and person by id only), retried 3 times with `meta.attempt` counting.
 */

export interface PipedriveSimulatorOptions {
  host?: string;
  port?: number;
  apiToken: string;
  /** Requests admitted per rolling window (Pipedrive's burst limit is per 2 seconds). */
  burstLimit?: number;
  burstWindowMs?: number;
  /** Delays before each retry: Pipedrive retries after 3, 30 and 150 seconds. */
  retryDelaysMs?: number[];
  /** Pipedrive waits 10 s for an answer. */
  timeoutMs?: number;
}

export interface RunningPipedriveSimulator {
  origin: string;
  world: PipedriveWorld;
  stats: PipedriveServerState['stats'];
  webhooks: OutboundWebhook[];
  failNext(count: number, status: number): void;
  registerWebhook(input: {
    url: string;
    user?: string;
    password?: string;
    action?: SimWebhook['event_action'];
    object?: string;
  }): SimWebhook;
  /** An organization, its person and an open deal with products (sends `create.deal`). */
  addDeal(input: {
    organization: string;
    country?: string;
    person: { firstName: string; lastName: string; email: string | null };
    products?: Array<{ name: string; quantity: number }>;
  }): { deal: SimDeal; webhooks: OutboundWebhook[] };
  /** Moves a deal to won, lost or open (sends `change.deal` with `previous.status`). */
  setDealStatus(id: number, status: SimDeal['status']): { deal: SimDeal; webhooks: OutboundWebhook[] };
  redeliver(webhook: OutboundWebhook): void;
  webhooksSettled(): Promise<void>;
  close(): Promise<void>;
}

const COMPANY_ID = '8087566';

function stamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A deal as a webhook v2 carries it: only crucial fields, related objects by id. */
function dealData(deal: SimDeal): Record<string, unknown> {
  return {
    add_time: deal.add_time,
    close_time: deal.close_time,
    creator_user_id: OWNER_ID,
    currency: deal.currency,
    custom_fields: {},
    first_won_time: deal.first_won_time,
    id: deal.id,
    org_id: deal.org_id,
    owner_id: deal.owner_id,
    person_id: deal.person_id,
    pipeline_id: deal.pipeline_id,
    stage_id: deal.stage_id,
    status: deal.status,
    title: deal.title,
    update_time: deal.update_time,
    value: deal.value,
    won_time: deal.won_time,
  };
}

export async function startPipedriveSimulator(options: PipedriveSimulatorOptions): Promise<RunningPipedriveSimulator> {
  const world = new PipedriveWorld();
  const outbound = new OutboundWebhooks({
    retryDelaysMs: options.retryDelaysMs ?? [3_000, 30_000, 150_000],
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  const state: PipedriveServerState = {
    world,
    apiToken: options.apiToken,
    window: new RollingWindow(options.burstLimit ?? 80, options.burstWindowMs ?? 2000),
    faults: [],
    stats: { requests: 0, refusedAuth: 0, rateLimited: 0 },
  };
  const app = await buildPipedriveServer(state);
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const emit = (action: 'create' | 'change', deal: SimDeal, previous: Record<string, unknown> | null) => {
    const data = dealData(deal);
    const id = randomUUID();
    const timestamp = new Date().toISOString();
    return world.webhooks
      .filter((w) => (w.event_action === '*' || w.event_action === action) && ['*', 'deal'].includes(w.event_object))
      .map((w) => {
        const headers: Record<string, string> = {};
        if (w.http_auth_user !== null && w.http_auth_password !== null) {
          headers.authorization = `Basic ${Buffer.from(`${w.http_auth_user}:${w.http_auth_password}`).toString('base64')}`;
        }
        // Each attempt is the same event (meta.id) with meta.attempt counting up.
        const request = (attempt: number) => ({
          headers,
          body: JSON.stringify({
            data,
            previous,
            meta: {
              action,
              company_id: COMPANY_ID,
              correlation_id: randomUUID(),
              entity_id: String(deal.id),
              entity: 'deal',
              id,
              is_bulk_edit: false,
              timestamp,
              type: 'general',
              user_id: String(OWNER_ID),
              version: '2.0',
              webhook_id: String(w.id),
              webhook_owner_id: String(OWNER_ID),
              change_source: 'app',
              attempt,
              host: 'simulated.pipedrive.com',
              permitted_user_ids: [String(OWNER_ID)],
            },
          }),
        });
        return outbound.send(w.subscription_url, request);
      });
  };

  return {
    origin,
    world,
    stats: state.stats,
    webhooks: outbound.sent,
    failNext: (count, status) => state.faults.push(...Array.from({ length: count }, () => status)),
    registerWebhook: (input) => {
      const webhook: SimWebhook = {
        id: 4_710_827 + world.webhooks.length,
        subscription_url: input.url,
        event_action: input.action ?? '*',
        event_object: input.object ?? 'deal',
        http_auth_user: input.user ?? null,
        http_auth_password: input.password ?? null,
      };
      world.webhooks.push(webhook);
      return webhook;
    },
    addDeal: (input) => {
      const org = world.addOrganization({
        name: input.organization,
        ...(input.country ? { country: input.country } : {}),
      });
      const person = world.addPerson({ ...input.person, orgId: org.id });
      const deal = world.addDeal({
        title: `${input.organization} deal`,
        orgId: org.id,
        personId: person.id,
        ...(input.products ? { products: input.products } : {}),
      });
      return { deal, webhooks: emit('create', deal, null) };
    },
    setDealStatus: (id, status) => {
      const deal = world.deals.get(id);
      if (!deal) throw new Error(`no simulated Pipedrive deal ${id}`);
      const previous = { status: deal.status, won_time: deal.won_time, update_time: deal.update_time };
      const now = stamp();
      deal.status = status;
      deal.update_time = now;
      deal.won_time = status === 'won' ? now : null;
      deal.first_won_time ??= deal.won_time;
      deal.close_time = status === 'open' ? null : now;
      return { deal, webhooks: emit('change', deal, previous) };
    },
    redeliver: (webhook) => outbound.redeliver(webhook),
    webhooksSettled: () => outbound.settled(),
    close: async () => {
      outbound.stop();
      await outbound.settled();
      await app.close();
    },
  };
}
