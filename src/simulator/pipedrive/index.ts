import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { RollingWindow } from '../hubspot/rate-window.js';
import { OutboundWebhooks, type OutboundWebhook } from '../outbound-webhooks.js';
import { buildPipedriveServer, type PipedriveServerState } from './server.js';
import { OWNER_ID, PipedriveWorld, type DealInput, type SimDeal, type SimWebhook } from './world.js';

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
  registerWebhook: PipedriveWorld['registerWebhook'];
  /** An organization, its person and an open deal with products (sends `create.deal`). */
  addDeal(input: DealInput): { deal: SimDeal; webhooks: OutboundWebhook[] };
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

interface DealEvent {
  action: 'create' | 'change';
  deal: SimDeal;
  previous: Record<string, unknown> | null;
  id: string;
  timestamp: string;
}

/** Each attempt is the same event (meta.id) with meta.attempt counting up, as Pipedrive's retries are. */
function webhookRequest(webhook: SimWebhook, event: DealEvent, attempt: number) {
  const headers: Record<string, string> = {};
  if (webhook.http_auth_user !== null && webhook.http_auth_password !== null) {
    const credentials = `${webhook.http_auth_user}:${webhook.http_auth_password}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  const meta = {
    action: event.action,
    company_id: COMPANY_ID,
    correlation_id: randomUUID(),
    entity_id: String(event.deal.id),
    entity: 'deal',
    id: event.id,
    is_bulk_edit: false,
    timestamp: event.timestamp,
    type: 'general',
    user_id: String(OWNER_ID),
    version: '2.0',
    webhook_id: String(webhook.id),
    webhook_owner_id: String(OWNER_ID),
    change_source: 'app',
    attempt,
    host: 'simulated.pipedrive.com',
    permitted_user_ids: [String(OWNER_ID)],
  };
  return { headers, body: JSON.stringify({ data: dealData(event.deal), previous: event.previous, meta }) };
}

/** Moves the deal and answers what `previous` carries: the fields that changed, as they were. */
function changeStatus(deal: SimDeal, status: SimDeal['status']): Record<string, unknown> {
  const previous = { status: deal.status, won_time: deal.won_time, update_time: deal.update_time };
  const now = stamp();
  deal.status = status;
  deal.update_time = now;
  deal.won_time = status === 'won' ? now : null;
  deal.first_won_time ??= deal.won_time;
  deal.close_time = status === 'open' ? null : now;
  return previous;
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
    const event = { action, deal, previous, id: randomUUID(), timestamp: new Date().toISOString() };
    return world.webhooks
      .filter((w) => (w.event_action === '*' || w.event_action === action) && ['*', 'deal'].includes(w.event_object))
      .map((w) => outbound.send(w.subscription_url, (attempt) => webhookRequest(w, event, attempt)));
  };

  return {
    origin,
    world,
    stats: state.stats,
    webhooks: outbound.sent,
    failNext: (count, status) => state.faults.push(...Array.from({ length: count }, () => status)),
    registerWebhook: (input) => world.registerWebhook(input),
    addDeal: (input) => {
      const deal = world.addDealWithParties(input);
      return { deal, webhooks: emit('create', deal, null) };
    },
    setDealStatus: (id, status) => {
      const deal = world.deals.get(id);
      if (!deal) throw new Error(`no simulated Pipedrive deal ${id}`);
      const previous = changeStatus(deal, status);
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
