import type { SourceEvent, SourceRecord } from '../kind.js';
import type { AutotaskClient, Company, Contact } from './client.js';

/**
 * What the trigger and the mapping read about one Autotask callout, as dotted paths
 * (docs/sources.md "Autotask PSA", fields): `event.*` (the callout, its `Fields` under
 * `event.fields.*`), `company.*` (its user-defined fields under `company.udf.<name>`) and
 * `contact.*` (the primary contact, else the first active one).
 */

type Fields = Record<string, unknown>;

function eventFields(event: SourceEvent): Fields {
  const fields: Fields = {
    'event.type': event.type,
    'event.action': event.payload.action,
    'event.entityType': event.payload.entityType,
    'event.id': event.objectId,
    'event.eventTime': event.payload.eventTime,
    'event.personId': event.payload.personId,
  };
  for (const [name, value] of Object.entries((event.payload.fields ?? {}) as Fields))
    fields[`event.fields.${name}`] = value;
  return fields;
}

function companyFields(company: Company): Fields {
  const fields: Fields = {
    'company.id': company.id,
    'company.companyName': company.companyName,
    'company.companyType': company.companyType ?? null,
    'company.companyNumber': company.companyNumber ?? null,
    'company.isActive': company.isActive ?? null,
    'company.phone': company.phone ?? null,
    'company.address1': company.address1 ?? null,
    'company.city': company.city ?? null,
    'company.postalCode': company.postalCode ?? null,
    'company.countryID': company.countryID ?? null,
    'company.webAddress': company.webAddress ?? null,
  };
  for (const udf of company.userDefinedFields ?? []) fields[`company.udf.${udf.name}`] = udf.value ?? null;
  return fields;
}

function contactFields(contact: Contact | undefined): Fields {
  return {
    'contact.id': contact?.id ?? null,
    'contact.firstName': contact?.firstName ?? null,
    'contact.lastName': contact?.lastName ?? null,
    'contact.emailAddress': contact?.emailAddress ?? null,
    'contact.phone': contact?.phone ?? null,
    'contact.title': contact?.title ?? null,
  };
}

async function primaryContact(client: AutotaskClient, companyId: number): Promise<Contact | undefined> {
  const contacts = await client.companyContacts(companyId);
  return contacts.find((c) => c.primaryContact) ?? contacts[0];
}

export async function readRecord(client: AutotaskClient, event: SourceEvent): Promise<SourceRecord> {
  const fields = eventFields(event);
  // A deleted record cannot be read back: the trigger sees the action and ignores it.
  if (String(event.payload.action).toLowerCase() === 'delete') return { fields };
  let company: Company;
  let contact: Contact | undefined;
  if (event.objectType === 'company') {
    company = await client.getCompany(event.objectId);
    contact = await primaryContact(client, company.id);
  } else if (event.objectType === 'contact') {
    contact = await client.getContact(event.objectId);
    company = await client.getCompany(String(contact.companyID));
  } else {
    return { fields };
  }
  return {
    fields: { ...fields, ...companyFields(company), ...contactFields(contact) },
    writeBackTarget: { objectType: 'company', objectId: String(company.id) },
  };
}
