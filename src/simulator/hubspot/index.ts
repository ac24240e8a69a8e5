import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { registerCrmApi } from './crm-api.js';
import { RollingWindow } from './rate-window.js';
import { HubSpotStore, type ObjectType } from './store.js';
import { WebhookSender, type WebhookOptions } from './webhook-sender.js';

/**
 * A simulated HubSpot account (docs/simulator.md "Simulated HubSpot"): CRM v3 reads and
 * company updates behind a private app token and HubSpot's rolling rate limit, and webhooks
 * posted, signed and retried as HubSpot does when a deal moves to a stage.
 */

export interface HubSpotSimulatorOptions {
  port?: number;
  host?: string;
  /** The private app token the API accepts; random unless given. */
  accessToken?: string;
  /** The app's client secret that signs webhooks; random unless given. */
  clientSecret?: string;
  /** Requests per rolling window (HubSpot: 100 per 10 s for a Free or Starter private app). */
  rateLimit?: { max: number; windowMs: number };
  /** Where and how webhooks go; none are sent until set (here or with `setWebhook`). */
  webhook?: Omit<WebhookOptions, 'clientSecret'>;
  /** The stage a workflow enrolls deals at (the pipeline's won stage). */
  workflowStage?: string;
}

export interface SeededDeal {
  dealId: string;
  companyId: string;
  contactId: string;
  lineItemIds: string[];
}

export interface DealSeed {
  deal?: Record<string, string | number>;
  company?: Record<string, string | number>;
  contact?: Record<string, string | number>;
  lineItems?: { sku: string; name: string; quantity: number }[];
}

/** HubSpot's legacy object JSON, `{value, timestamp, source, versions}` per property, which deal workflows post. */
function legacyProperties(properties: Record<string, string | null>, at: number) {
  return Object.fromEntries(
    Object.entries(properties).map(([name, value]) => [
      name,
      {
        value,
        timestamp: at,
        source: 'CRM_UI',
        sourceId: null,
        versions: [{ name, value, timestamp: at, source: 'CRM_UI', sourceVid: [] }],
      },
    ]),
  );
}

/** A company, its contact and a deal associated with both, and line items with their products. */
function seedDeal(store: HubSpotStore, seed: DealSeed): SeededDeal {
  const companyId = store.create('companies', {
    name: 'Example Co',
    country: 'Germany',
    domain: 'example.com',
    ...seed.company,
  });
  const contactId = store.create('contacts', {
    email: 'admin@example.com',
    firstname: 'Ada',
    lastname: 'Admin',
    ...seed.contact,
  });
  const dealId = store.create('deals', {
    dealname: 'Backup 100',
    dealstage: 'appointmentscheduled',
    pipeline: 'default',
    amount: '1000',
    ...seed.deal,
  });
  store.associate('deals', dealId, 'companies', companyId);
  store.associate('deals', dealId, 'contacts', contactId);
  store.associate('contacts', contactId, 'companies', companyId);
  const lineItemIds = (seed.lineItems ?? []).map((item) => {
    const productId = store.create('products', { name: item.name, hs_sku: item.sku });
    const lineItemId = store.create('line_items', {
      name: item.name,
      quantity: item.quantity,
      hs_product_id: productId,
    });
    store.associate('deals', dealId, 'line_items', lineItemId);
    return lineItemId;
  });
  return { dealId, companyId, contactId, lineItemIds };
}

/** The deal's JSON as a deal workflow's "Send a webhook" posts it (legacy object JSON). */
function workflowBody(
  store: HubSpotStore,
  portalId: number,
  dealId: string,
  properties: Record<string, string | null>,
) {
  return {
    portalId,
    dealId: Number(dealId),
    isDeleted: false,
    associations: {
      associatedVids: store.associated('deals', dealId, 'contacts').map(Number),
      associatedCompanyIds: store.associated('deals', dealId, 'companies').map(Number),
      associatedDealIds: [],
    },
    properties: legacyProperties(properties, Date.now()),
    imports: [],
    stateChanges: [],
  };
}

function moveDealStage(
  store: HubSpotStore,
  sender: WebhookSender | null,
  dealId: string,
  stage: string,
  workflowStage: string,
): void {
  const deal = store.update('deals', dealId, { dealstage: stage });
  if (!deal) throw new Error(`no deal ${dealId}`);
  if (!sender) return;
  if (sender.options.mode === 'workflow') {
    if (stage === workflowStage) sender.sendWorkflowBody(workflowBody(store, sender.portalId, dealId, deal.properties));
    return;
  }
  const event = {
    occurredAt: Date.now(),
    subscriptionType: 'deal.propertyChange',
    objectId: Number(dealId),
    propertyName: 'dealstage',
    propertyValue: stage,
    changeSource: 'CRM',
    sourceId: 'userId:1234567',
  };
  sender.queueEvent(event, 1);
}

export async function startHubSpotSimulator(options: HubSpotSimulatorOptions = {}) {
  const accessToken = options.accessToken ?? `pat-na1-${randomBytes(12).toString('hex')}`;
  const clientSecret = options.clientSecret ?? randomBytes(16).toString('hex');
  const store = new HubSpotStore();
  const window = new RollingWindow(options.rateLimit?.max ?? 100, options.rateLimit?.windowMs ?? 10_000);
  const faults: number[] = [];
  const calls = new Map<string, number>();
  let sender = options.webhook ? new WebhookSender({ ...options.webhook, clientSecret }) : null;

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  registerCrmApi(app, { store, accessToken, window, faults, calls });
  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });

  return {
    url: address,
    accessToken,
    clientSecret,
    store,
    window,
    /** Requests per `METHOD /route template`. */
    calls,
    seedDeal: (seed: DealSeed = {}) => seedDeal(store, seed),
    /** Moves the deal to `stage` and posts what HubSpot would: the stage change event, or the workflow's webhook at the won stage. */
    moveDealStage: (dealId: string, stage: string) =>
      moveDealStage(store, sender, dealId, stage, options.workflowStage ?? 'closedwon'),
    /** The next requests to the API answer these statuses instead (e.g. [503]). */
    failNext: (...statuses: number[]) => void faults.push(...statuses),
    defineCompanyProperties: (...names: string[]) => names.forEach((name) => store.companyProperties.add(name)),
    setWebhook(webhook: Omit<WebhookOptions, 'clientSecret'>) {
      sender = new WebhookSender({ ...webhook, clientSecret });
      return sender;
    },
    get webhooks(): WebhookSender | null {
      return sender;
    },
    create: (type: ObjectType, properties: Record<string, string | number | null>) => store.create(type, properties),
    async close() {
      await sender?.settled();
      await app.close();
    },
  };
}

export type HubSpotSimulator = Awaited<ReturnType<typeof startHubSpotSimulator>>;
