import type { SourceEvent, SourceRecord } from '../kind.js';
import { flattenFields } from '../record-fields.js';
import type { Deal, DealProduct, Organization, Person, PipedriveClient } from './client.js';
import type { PipedriveSettings } from './settings.js';

/**
 * What the trigger and the mapping read about one Pipedrive webhook, as dotted paths
 * (docs/sources.md "Pipedrive", fields). A deal's webhook holds only `org_id` and `person_id`,
 * so the organization, the person and the deal's products are read back.
 */

type Fields = Record<string, unknown>;

function eventFields(event: SourceEvent): Fields {
  const fields: Fields = {
    'event.type': event.type,
    'event.action': event.payload.action,
    'event.entity': event.objectType,
    'event.entityId': event.objectId,
    'event.changeSource': event.payload.changeSource,
    'event.attempt': event.payload.attempt,
  };
  // `previous` holds only what changed: `event.previous.status` exists when the status did.
  flattenFields(event.payload.previous ?? {}, 'event.previous', fields);
  return fields;
}

function customFields(prefix: string, values: Record<string, unknown> | null | undefined): Fields {
  const fields: Fields = {};
  for (const [key, value] of Object.entries(values ?? {})) {
    // v2 answers a custom field as its value, or as {value, …} for composite types.
    fields[`${prefix}.custom_fields.${key}`] =
      value && typeof value === 'object' && 'value' in value ? (value as { value: unknown }).value : value;
  }
  return fields;
}

function dealFields(deal: Deal): Fields {
  return {
    'deal.id': deal.id,
    'deal.title': deal.title ?? null,
    'deal.status': deal.status ?? null,
    'deal.value': deal.value ?? null,
    'deal.currency': deal.currency ?? null,
    'deal.pipeline_id': deal.pipeline_id ?? null,
    'deal.stage_id': deal.stage_id ?? null,
    'deal.won_time': deal.won_time ?? null,
    ...customFields('deal', deal.custom_fields),
  };
}

function organizationFields(org: Organization | undefined): Fields {
  if (!org) return {};
  return {
    'organization.id': org.id,
    'organization.name': org.name,
    'organization.address': org.address?.value ?? null,
    'organization.country': org.address?.country ?? null,
    ...customFields('organization', org.custom_fields),
  };
}

function primary(channels: Person['emails']): string | null {
  return (channels?.find((c) => c.primary) ?? channels?.[0])?.value ?? null;
}

function personFields(person: Person | undefined): Fields {
  if (!person) return {};
  return {
    'person.id': person.id,
    'person.name': person.name ?? null,
    'person.first_name': person.first_name ?? null,
    'person.last_name': person.last_name ?? null,
    'person.email': primary(person.emails),
    'person.phone': primary(person.phones),
  };
}

/** `products` and its columns (`products[].name`, `products[].quantity`), what `line_item_quotas` names. */
function productFields(products: DealProduct[]): Fields {
  const rows = products.map((p) => ({
    name: p.name ?? null,
    product_id: p.product_id ?? null,
    quantity: p.quantity ?? 0,
  }));
  return flattenFields(rows, 'products');
}

async function fromDeal(
  client: PipedriveClient,
  settings: PipedriveSettings,
  event: SourceEvent,
): Promise<SourceRecord> {
  const deal = await client.getDeal(event.objectId);
  const [org, person, products] = await Promise.all([
    deal.org_id ? client.getOrganization(deal.org_id) : undefined,
    deal.person_id ? client.getPerson(deal.person_id) : undefined,
    settings.read_products ? client.dealProducts(deal.id) : [],
  ]);
  const fields = {
    ...eventFields(event),
    ...dealFields(deal),
    ...organizationFields(org),
    ...personFields(person),
    ...productFields(products),
  };
  return org ? { fields, writeBackTarget: { objectType: 'organization', objectId: String(org.id) } } : { fields };
}

export async function readRecord(
  client: PipedriveClient,
  settings: PipedriveSettings,
  event: SourceEvent,
): Promise<SourceRecord> {
  // A deleted object cannot be read back (its data is null): the trigger sees the action and ignores it.
  if (event.payload.action === 'delete') return { fields: eventFields(event) };
  if (event.objectType === 'deal') return fromDeal(client, settings, event);
  if (event.objectType === 'organization') {
    const org = await client.getOrganization(event.objectId);
    return {
      fields: { ...eventFields(event), ...organizationFields(org) },
      writeBackTarget: { objectType: 'organization', objectId: String(org.id) },
    };
  }
  return { fields: eventFields(event) };
}
