import type { SourceEvent, SourceRecord } from '../kind.js';
import { isSalesforceId, type SalesforceRestClient, type SObject } from './rest-client.js';
import type { SalesforceSettings } from './settings.js';

/**
 * What the trigger and the mapping read about one notification, as dotted paths (docs/sources.md
 * "Salesforce", record fields): `notification.*` (the fields the message carried),
 * `opportunity.*`, `account.*`, `contact.*` read back through the REST API, and `line_items`
 * ([{product_code, name, quantity}]) from the opportunity's products.
 */

type Fields = Record<string, unknown>;

export interface LineItem {
  product_code: string | null;
  name: string | null;
  quantity: number | null;
}

function put(fields: Fields, prefix: string, record: Record<string, unknown> | undefined): void {
  if (!record) return;
  for (const [name, value] of Object.entries(record)) {
    if (name !== 'attributes' && (value === null || typeof value !== 'object')) fields[`${prefix}.${name}`] = value;
  }
}

function eventFields(event: SourceEvent): Fields {
  const fields: Fields = {
    'event.type': event.type,
    'event.objectType': event.objectType,
    'event.objectId': event.objectId,
    'event.actionId': event.payload.actionId,
  };
  put(fields, 'notification', event.payload.fields as Record<string, unknown> | undefined);
  return fields;
}

/** The account's first contact (oldest): an outbound message names no contact, and an Account has no primary one. */
async function firstContact(client: SalesforceRestClient, settings: SalesforceSettings, accountId: string) {
  const columns = ['Id', ...settings.read.contact_fields.filter((f) => f !== 'Id')].join(', ');
  const soql = `SELECT ${columns} FROM Contact WHERE AccountId = '${accountId}' ORDER BY CreatedDate ASC LIMIT 1`;
  return (await client.query(soql, 'the account contact'))[0];
}

async function lineItems(client: SalesforceRestClient, opportunityId: string): Promise<LineItem[]> {
  const soql = `SELECT Id, Quantity, ProductCode, Name FROM OpportunityLineItem WHERE OpportunityId = '${opportunityId}'`;
  const records = await client.query(soql, 'the opportunity products');
  return records.map((r) => ({
    product_code: typeof r.ProductCode === 'string' ? r.ProductCode : null,
    name: typeof r.Name === 'string' ? r.Name : null,
    quantity: typeof r.Quantity === 'number' && Number.isFinite(r.Quantity) ? r.Quantity : null,
  }));
}

/** The list, and each column as an array (`line_items[].quantity`), the form the mapping's line item quotas name. */
function putLineItems(fields: Fields, items: LineItem[]): void {
  fields.line_items = items;
  for (const column of ['product_code', 'name', 'quantity'] as const)
    fields[`line_items[].${column}`] = items.map((item) => item[column]);
}

async function fromAccount(
  client: SalesforceRestClient,
  settings: SalesforceSettings,
  accountId: string,
  fields: Fields,
) {
  const account: SObject = await client.getRecord('Account', accountId, settings.read.account_fields);
  put(fields, 'account', account);
  put(fields, 'contact', await firstContact(client, settings, accountId));
  return accountId;
}

async function fromOpportunity(client: SalesforceRestClient, settings: SalesforceSettings, id: string, fields: Fields) {
  const wanted = [...new Set([...settings.read.opportunity_fields, 'AccountId'])];
  const opportunity = await client.getRecord('Opportunity', id, wanted);
  put(fields, 'opportunity', opportunity);
  if (settings.read.line_items) putLineItems(fields, await lineItems(client, id));
  const accountId = opportunity.AccountId;
  return isSalesforceId(accountId) ? fromAccount(client, settings, accountId, fields) : undefined;
}

/** Reads the notification's record and what hangs off it; another sObject gives the message's own fields only. */
export async function readRecord(
  client: SalesforceRestClient,
  settings: SalesforceSettings,
  event: SourceEvent,
): Promise<SourceRecord> {
  const fields = eventFields(event);
  const reader =
    event.objectType === 'opportunity' ? fromOpportunity : event.objectType === 'account' ? fromAccount : undefined;
  if (!reader) return { fields };
  const accountId = await reader(client, settings, event.objectId, fields);
  return accountId ? { fields, writeBackTarget: { objectType: 'account', objectId: accountId } } : { fields };
}
