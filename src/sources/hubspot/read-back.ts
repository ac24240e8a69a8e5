import type { SourceEvent, SourceRecord } from '../kind.js';
import type { CrmObject, HubSpotCrmClient } from './crm-client.js';
import type { HubSpotSettings } from './settings.js';

/**
 * What the intake's trigger and mapping read about one HubSpot event, as dotted paths
 * (docs/sources.md "HubSpot", record fields): `event.*`, `deal.*`, `company.*`, `contact.*`
 * and `line_items` ([{sku, name, quantity}]).
 */

export interface LineItem {
  sku: string | null;
  name: string | null;
  quantity: number | null;
}

type Fields = Record<string, unknown>;

function put(fields: Fields, prefix: string, object: CrmObject | undefined): void {
  if (!object) return;
  fields[`${prefix}.id`] = object.id;
  for (const [name, value] of Object.entries(object.properties)) fields[`${prefix}.${name}`] = value;
}

/** The associated ids HubSpot lists; it keys line items as `line items` in this map, so both spellings are read. */
function associated(object: CrmObject, type: string): string[] {
  const list = object.associations?.[type] ?? object.associations?.[type.replace('_', ' ')];
  return list?.results.map((result) => result.id) ?? [];
}

function eventFields(event: SourceEvent): Fields {
  const fields: Fields = {
    'event.type': event.type,
    'event.objectType': event.objectType,
    'event.objectId': event.objectId,
  };
  for (const name of ['propertyName', 'propertyValue', 'changeSource', 'portalId', 'attemptNumber', 'occurredAt']) {
    if (event.payload[name] !== undefined) fields[`event.${name}`] = event.payload[name];
  }
  return fields;
}

function quantity(value: string | null | undefined): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/** The deal's line items; a line item without its own SKU takes its product's. */
async function readLineItems(client: HubSpotCrmClient, ids: string[]): Promise<LineItem[]> {
  const items = await client.batchRead('line_items', ids, ['name', 'quantity', 'hs_sku', 'hs_product_id']);
  const productIds = [
    ...new Set(
      items.filter((i) => !i.properties.hs_sku && i.properties.hs_product_id).map((i) => i.properties.hs_product_id!),
    ),
  ];
  const products = new Map((await client.batchRead('products', productIds, ['name', 'hs_sku'])).map((p) => [p.id, p]));
  return items.map((item) => {
    const product = products.get(item.properties.hs_product_id ?? '');
    return {
      sku: item.properties.hs_sku || product?.properties.hs_sku || null,
      name: item.properties.name || product?.properties.name || null,
      quantity: quantity(item.properties.quantity),
    };
  });
}

/** The list, and each column as an array (`line_items[].sku`), the form the mapping's line item quotas name. */
function putLineItems(fields: Fields, items: LineItem[]): void {
  fields.line_items = items;
  for (const column of ['sku', 'name', 'quantity'] as const)
    fields[`line_items[].${column}`] = items.map((item) => item[column]);
}

async function companyAndContact(
  client: HubSpotCrmClient,
  settings: HubSpotSettings,
  companyId: string | undefined,
  contactId: string | undefined,
): Promise<{ company?: CrmObject; contact?: CrmObject }> {
  const { company_properties, contact_properties } = settings.read;
  const [company, contact] = await Promise.all([
    companyId ? client.getObject('companies', companyId, company_properties) : undefined,
    contactId ? client.getObject('contacts', contactId, contact_properties) : undefined,
  ]);
  return { company, contact };
}

async function fromDeal(client: HubSpotCrmClient, settings: HubSpotSettings, dealId: string, fields: Fields) {
  const associations = ['companies', 'contacts', ...(settings.read.line_items ? ['line_items'] : [])];
  const deal = await client.getObject('deals', dealId, settings.read.deal_properties, associations);
  put(fields, 'deal', deal);
  // The first association HubSpot lists is the one used; a deal normally has one company.
  const companyId = associated(deal, 'companies')[0];
  const { company, contact } = await companyAndContact(client, settings, companyId, associated(deal, 'contacts')[0]);
  put(fields, 'company', company);
  put(fields, 'contact', contact);
  if (settings.read.line_items) putLineItems(fields, await readLineItems(client, associated(deal, 'line_items')));
  return companyId;
}

async function fromCompany(client: HubSpotCrmClient, settings: HubSpotSettings, companyId: string, fields: Fields) {
  const company = await client.getObject('companies', companyId, settings.read.company_properties, ['contacts']);
  put(fields, 'company', company);
  const { contact } = await companyAndContact(client, settings, undefined, associated(company, 'contacts')[0]);
  put(fields, 'contact', contact);
  return companyId;
}

async function fromContact(client: HubSpotCrmClient, settings: HubSpotSettings, contactId: string, fields: Fields) {
  const contact = await client.getObject('contacts', contactId, settings.read.contact_properties, ['companies']);
  put(fields, 'contact', contact);
  const companyId = associated(contact, 'companies')[0];
  const { company } = await companyAndContact(client, settings, companyId, undefined);
  put(fields, 'company', company);
  return companyId;
}

const READERS = { deal: fromDeal, company: fromCompany, contact: fromContact } as const;

/** Reads the event's object and what hangs off it; an object type we do not read gives the event's own fields only. */
export async function readRecord(
  client: HubSpotCrmClient,
  settings: HubSpotSettings,
  event: SourceEvent,
): Promise<SourceRecord> {
  const fields = eventFields(event);
  const reader = READERS[event.objectType as keyof typeof READERS];
  if (!reader) return { fields };
  const companyId = await reader(client, settings, event.objectId, fields);
  return companyId ? { fields, writeBackTarget: { objectType: 'company', objectId: companyId } } : { fields };
}
