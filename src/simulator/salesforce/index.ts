import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import { OutboundSender, type OutboundOptions, type QueuedNotification } from './outbound-sender.js';
import { registerRestApi } from './rest-api.js';
import { SalesforceStore, type FieldValue } from './store.js';

/**
 * A simulated Salesforce org (docs/simulator.md "Simulated Salesforce"): the OAuth 2.0 client
 * credentials token, the REST reads and the Account update the source makes, behind the org's API
 * request limit; and outbound messages sent as a workflow rule or Flow sends them when an
 * Opportunity is won or an Account changes, resent until acknowledged.
 */

export interface SalesforceSimulatorOptions {
  port?: number;
  host?: string;
  /** The org's id (18 characters, `00D…`); random unless given. */
  organizationId?: string;
  clientId?: string;
  clientSecret?: string;
  /** API requests the org allows before 403 REQUEST_LIMIT_EXCEEDED (Salesforce: per 24 hours). */
  apiLimit?: number;
  /** The fields an Opportunity outbound message carries (what the admin ticked). */
  opportunityMessageFields?: string[];
  accountMessageFields?: string[];
}

export interface OpportunitySeed {
  account?: Record<string, FieldValue>;
  contact?: Record<string, FieldValue>;
  opportunity?: Record<string, FieldValue>;
  lineItems?: { productCode: string; name: string; quantity: number }[];
}

export interface SeededOpportunity {
  opportunityId: string;
  accountId: string;
  contactId: string;
}

const CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomChars = (n: number) => [...randomBytes(n)].map((b) => CHARS[b % CHARS.length]).join('');

function seedOpportunity(store: SalesforceStore, seed: OpportunitySeed): SeededOpportunity {
  const accountId = store.create('Account', { Name: 'Example Co', BillingCountry: 'Germany', ...seed.account });
  const contactId = store.create('Contact', {
    AccountId: accountId,
    Email: 'admin@example.com',
    FirstName: 'Ada',
    LastName: 'Admin',
    ...seed.contact,
  });
  const opportunityId = store.create('Opportunity', {
    AccountId: accountId,
    Name: 'Backup 100',
    StageName: 'Prospecting',
    IsWon: false,
    IsClosed: false,
    Amount: 1000,
    ...seed.opportunity,
  });
  for (const item of seed.lineItems ?? []) {
    store.create('OpportunityLineItem', {
      OpportunityId: opportunityId,
      ProductCode: item.productCode,
      Name: item.name,
      Quantity: item.quantity,
    });
  }
  return { opportunityId, accountId, contactId };
}

function chosen(record: Record<string, FieldValue>, fields: string[]): Record<string, FieldValue> {
  return Object.fromEntries(['Id', ...fields].map((f) => [f, record[f] ?? null]));
}

type Notify = (sObjectType: string, fields: Record<string, FieldValue>) => QueuedNotification;

/** What a user does in the org, and the outbound message its rule sends. */
function recordChanges(store: SalesforceStore, notify: Notify, opportunityFields: string[], accountFields: string[]) {
  return {
    /**
     * Closes the opportunity as won and queues the outbound message its workflow rule sends
     * ("IsWon equals True"); the notification is returned as it is sent.
     */
    winOpportunity(opportunityId: string): QueuedNotification {
      const record = store.update('Opportunity', opportunityId, {
        StageName: 'Closed Won',
        IsWon: true,
        IsClosed: true,
      });
      if (!record) throw new Error(`no opportunity ${opportunityId}`);
      return notify('Opportunity', chosen(record, opportunityFields));
    },
    /**
     * Changes an opportunity's stage (IsWon and IsClosed follow it, as in Salesforce's default
     * stages); a rule sends only on its criteria, so nothing is sent unless told to.
     */
    moveOpportunity(opportunityId: string, stage: string, send = false): QueuedNotification | undefined {
      const closed = stage === 'Closed Won' || stage === 'Closed Lost';
      const record = store.update('Opportunity', opportunityId, {
        StageName: stage,
        IsWon: stage === 'Closed Won',
        IsClosed: closed,
      });
      if (!record) throw new Error(`no opportunity ${opportunityId}`);
      return send ? notify('Opportunity', chosen(record, opportunityFields)) : undefined;
    },
    /** An Account's outbound message (an Account rule, e.g. Type becomes Customer). */
    notifyAccount(accountId: string): QueuedNotification {
      const record = store.get('Account', accountId);
      if (!record) throw new Error(`no account ${accountId}`);
      return notify('Account', chosen(record, accountFields));
    },
  };
}

export async function startSalesforceSimulator(options: SalesforceSimulatorOptions = {}) {
  const organizationId = options.organizationId ?? `00D${randomChars(15)}`;
  const clientId = options.clientId ?? `3MVG9${randomChars(40)}`;
  const clientSecret = options.clientSecret ?? randomBytes(32).toString('hex').toUpperCase();
  const store = new SalesforceStore();
  const tokens = new Set<string>();
  const apiLimit = { max: options.apiLimit ?? 15_000, used: 0 };
  const faults: number[] = [];
  const calls = new Map<string, number>();
  let url = '';
  let sender: OutboundSender | null = null;
  const opportunityFields = options.opportunityMessageFields ?? ['Name', 'StageName', 'IsWon', 'AccountId'];
  const accountFields = options.accountMessageFields ?? ['Name'];

  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
  registerRestApi(app, { store, clientId, clientSecret, tokens, apiLimit, faults, calls, url: () => url });
  url = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });

  const notify = (sObjectType: string, fields: Record<string, FieldValue>): QueuedNotification => {
    const notification = { id: store.newId('Notification'), sObjectType, fields };
    sender?.queue(notification);
    return notification;
  };

  return {
    url,
    organizationId,
    clientId,
    clientSecret,
    store,
    apiLimit,
    /** Requests per `METHOD /route template`. */
    calls,
    seedOpportunity: (seed: OpportunitySeed = {}) => seedOpportunity(store, seed),
    ...recordChanges(store, notify, opportunityFields, accountFields),
    defineAccountFields: (...names: string[]) => names.forEach((n) => store.accountFields.add(n)),
    /** Every token issued so far answers 401 INVALID_SESSION_ID from now on (a session timeout). */
    expireTokens: () => tokens.clear(),
    /** The next REST requests answer these statuses instead (e.g. [503]). */
    failNext: (...statuses: number[]) => void faults.push(...statuses),
    setOutbound(outbound: Omit<OutboundOptions, 'organizationId' | 'instanceUrl'> & { organizationId?: string }) {
      sender = new OutboundSender({ organizationId, instanceUrl: url, ...outbound });
      return sender;
    },
    get outbound(): OutboundSender | null {
      return sender;
    },
    /** Resends stop (a message not yet acknowledged stays so), then the server. */
    async close() {
      sender?.stop();
      await sender?.settled();
      await app.close();
    },
  };
}

export type SalesforceSimulator = Awaited<ReturnType<typeof startSalesforceSimulator>>;
