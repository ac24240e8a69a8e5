import type { SourceEvent, SourceRecord } from '../kind.js';
import { flattenFields } from '../record-fields.js';
import type { Addition, Agreement, Company, Contact, Opportunity } from './api-schemas.js';
import type { ConnectWiseClient } from './client.js';

/**
 * Reads what a callback lacks: the company, its default contact (the agreement's or
 * opportunity's contact when the company has none), and the agreement (with its additions) or
 * opportunity that triggered it, flattened into the dotted paths a mapping names
 * (docs/sources.md "ConnectWise PSA", record fields).
 */
export async function readRecord(event: SourceEvent, client: ConnectWiseClient): Promise<SourceRecord> {
  const callbackFields = {
    'callback.type': event.objectType,
    'callback.action': event.payload.action,
    'callback.memberId': event.payload.memberId,
  };
  // A deleted record cannot be read back; the trigger sees the action and ignores it.
  if (event.payload.action === 'deleted') return { fields: callbackFields };
  const id = Number(event.objectId);
  switch (event.objectType) {
    case 'agreement': {
      const agreement = await client.getAgreement(id);
      const additions = await client.getAgreementAdditions(id);
      const company = await client.getCompany(agreement.company.id);
      const contact = await contactFor(client, company, agreement.contact?.id);
      return recordOf(company, contact, { ...callbackFields, ...agreementFields(agreement, additions) });
    }
    case 'opportunity': {
      const opportunity = await client.getOpportunity(id);
      const company = await client.getCompany(opportunity.company.id);
      const contact = await contactFor(client, company, opportunity.contact?.id);
      return recordOf(company, contact, {
        ...callbackFields,
        ...opportunityFields(opportunity),
        ...additionFields([]),
      });
    }
    case 'company': {
      const company = await client.getCompany(id);
      const contact = await contactFor(client, company, undefined);
      return recordOf(company, contact, { ...callbackFields, ...additionFields([]) });
    }
    default:
      return { fields: callbackFields };
  }
}

async function contactFor(
  client: ConnectWiseClient,
  company: Company,
  fallbackId: number | undefined,
): Promise<Contact | null> {
  const id = company.defaultContact?.id ?? fallbackId;
  return id === undefined ? null : client.getContact(id);
}

function recordOf(company: Company, contact: Contact | null, extra: Record<string, unknown>): SourceRecord {
  return {
    fields: { ...extra, ...companyFields(company), ...contactFields(contact) },
    writeBackTarget: { objectType: 'company', objectId: String(company.id) },
  };
}

function companyFields(company: Company): Record<string, unknown> {
  return {
    'company.id': company.id,
    'company.identifier': company.identifier,
    'company.name': company.name,
    'company.status': company.status?.name ?? null,
    'company.types': (company.types ?? []).map((t) => t.name ?? null),
    'company.country': company.country?.name ?? null,
    'company.countryIdentifier': company.country?.identifier ?? null,
    'company.city': company.city ?? null,
    'company.state': company.state ?? null,
    'company.zip': company.zip ?? null,
    'company.phoneNumber': company.phoneNumber ?? null,
    'company.website': company.website ?? null,
  };
}

export function contactFields(contact: Contact | null): Record<string, unknown> {
  const items = contact?.communicationItems ?? [];
  const pick = (kind: string) => {
    const ofKind = items.filter((i) => i.communicationType === kind);
    return (ofKind.find((i) => i.defaultFlag) ?? ofKind[0])?.value ?? null;
  };
  return {
    'contact.id': contact?.id ?? null,
    'contact.firstName': contact?.firstName ?? null,
    'contact.lastName': contact?.lastName ?? null,
    'contact.title': contact?.title ?? null,
    'contact.email': pick('Email'),
    'contact.phone': pick('Phone'),
  };
}

function agreementFields(agreement: Agreement, additions: Addition[]): Record<string, unknown> {
  return {
    'agreement.id': agreement.id,
    'agreement.name': agreement.name,
    'agreement.type': agreement.type?.name ?? null,
    'agreement.status': agreement.agreementStatus ?? null,
    'agreement.cancelled': agreement.cancelledFlag ?? false,
    'agreement.startDate': agreement.startDate ?? null,
    ...additionFields(additions),
  };
}

/** `additions` and its columns `additions[].product`, `additions[].quantity` (what line_item_quotas names). */
function additionFields(additions: Addition[]): Record<string, unknown> {
  // Cancelled additions are no longer sold: they give no quota.
  const sold = additions
    .filter((a) => !a.cancelledDate)
    .map((a) => ({
      product: a.product.identifier ?? a.product.name ?? String(a.product.id),
      quantity: a.quantity ?? 0,
    }));
  return flattenFields(sold, 'additions');
}

function opportunityFields(opportunity: Opportunity): Record<string, unknown> {
  return {
    'opportunity.id': opportunity.id,
    'opportunity.name': opportunity.name,
    'opportunity.status': opportunity.status?.name ?? null,
    'opportunity.stage': opportunity.stage?.name ?? null,
    'opportunity.type': opportunity.type?.name ?? null,
    'opportunity.closedDate': opportunity.closedDate ?? null,
  };
}
