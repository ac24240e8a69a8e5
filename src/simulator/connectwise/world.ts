import { randomBytes, randomUUID } from 'node:crypto';

/**
 * What the simulated ConnectWise PSA keeps: companies with their custom fields and notes,
 * contacts with communication items, agreements with additions, opportunities, and the callback
 * registrations with their signing keys. Records are shaped as ConnectWise's REST API returns
 * them (docs/simulator.md "Simulated ConnectWise PSA").
 */

export interface SimReference {
  id: number;
  name?: string;
  identifier?: string;
}

export interface SimCustomField {
  id: number;
  caption: string;
  type: string;
  entryMethod: string;
  numberOfDecimals: number;
  value: unknown;
}

export interface SimCompany {
  id: number;
  identifier: string;
  name: string;
  status: SimReference;
  types: SimReference[];
  city: string | null;
  country: SimReference | null;
  phoneNumber: string;
  website: string;
  defaultContact: SimReference | null;
  deletedFlag: boolean;
  customFields: SimCustomField[];
}

export interface SimContact {
  id: number;
  firstName: string;
  lastName: string;
  company: SimReference;
  inactiveFlag: boolean;
  defaultFlag: boolean;
  communicationItems: Array<{
    id: number;
    type: SimReference;
    value: string;
    defaultFlag: boolean;
    communicationType: string;
  }>;
}

export interface SimAddition {
  id: number;
  product: SimReference;
  quantity: number;
  description: string;
  agreementId: number;
  cancelledDate: string | null;
  billCustomer: string;
}

export interface SimAgreement {
  id: number;
  name: string;
  type: SimReference;
  company: SimReference;
  contact: SimReference | null;
  agreementStatus: string;
  cancelledFlag: boolean;
  startDate: string;
}

export interface SimOpportunity {
  id: number;
  name: string;
  company: SimReference;
  contact: SimReference | null;
  status: SimReference;
  stage: SimReference;
  closedDate: string | null;
}

export interface SimNote {
  id: number;
  text: string;
  type: SimReference | null;
  flagged: boolean;
  company: SimReference;
  enteredBy: string;
}

export interface SimCallbackEntry {
  id: number;
  /** Absent unless given, as ConnectWise answers. */
  description?: string;
  url: string;
  objectId: number;
  type: string;
  level: string;
  memberId: number;
  payloadVersion: string;
  inactiveFlag: boolean;
  isSoapCallbackFlag: boolean;
  isSelfSuppressedFlag: boolean;
  connectWiseID: string;
  /** The key behind this registration's key URL; never sent anywhere but the key URL. */
  signingKey: string;
  keyId: string;
  _info: { lastUpdated: string; updatedBy: string };
}

/** A write our client made, as the simulator received it: what tests read to prove a write-back. */
export interface SimWrite {
  method: string;
  path: string;
  body: unknown;
}

/** The company custom fields a fresh simulated instance has (Setup Tables > Custom Fields, screen Company). */
export const DEFAULT_COMPANY_CUSTOM_FIELDS: ReadonlyArray<Pick<SimCustomField, 'id' | 'caption'>> = [
  { id: 41, caption: 'Acronis tenant id' },
  { id: 42, caption: 'Acronis admin login' },
  { id: 43, caption: 'Acronis state' },
];

export class ConnectWiseWorld {
  readonly companies = new Map<number, SimCompany>();
  readonly contacts = new Map<number, SimContact>();
  readonly agreements = new Map<number, SimAgreement>();
  readonly additions = new Map<number, SimAddition[]>();
  readonly opportunities = new Map<number, SimOpportunity>();
  readonly notes = new Map<number, SimNote[]>();
  readonly callbacks: SimCallbackEntry[] = [];
  readonly writes: SimWrite[] = [];
  private nextId = 19_000;

  constructor(readonly companyName: string) {}

  id(): number {
    return this.nextId++;
  }

  addCompany(input: {
    identifier: string;
    name: string;
    country?: string;
    city?: string;
    contact?: { firstName: string; lastName: string; email: string | null };
  }): SimCompany {
    const id = this.id();
    const company: SimCompany = {
      id,
      identifier: input.identifier,
      name: input.name,
      status: { id: 1, name: 'Active' },
      types: [{ id: 1, name: 'Client' }],
      city: input.city ?? null,
      country: input.country ? { id: 1, name: input.country, identifier: input.country } : null,
      phoneNumber: '',
      website: '',
      defaultContact: null,
      deletedFlag: false,
      customFields: DEFAULT_COMPANY_CUSTOM_FIELDS.map((f) => ({
        ...f,
        type: 'Text',
        entryMethod: 'EntryField',
        numberOfDecimals: 0,
        value: null,
      })),
    };
    this.companies.set(id, company);
    this.notes.set(id, []);
    if (input.contact) {
      const contact = this.addContact(id, input.contact);
      company.defaultContact = { id: contact.id, name: `${contact.firstName} ${contact.lastName}` };
    }
    return company;
  }

  addContact(companyId: number, input: { firstName: string; lastName: string; email: string | null }): SimContact {
    const company = this.company(companyId);
    const id = this.id();
    const items: SimContact['communicationItems'] = [];
    if (input.email !== null) {
      items.push({
        id: this.id(),
        type: { id: 1, name: 'Email' },
        value: input.email,
        defaultFlag: true,
        communicationType: 'Email',
      });
    }
    const contact: SimContact = {
      id,
      firstName: input.firstName,
      lastName: input.lastName,
      company: { id: company.id, identifier: company.identifier, name: company.name },
      inactiveFlag: false,
      defaultFlag: true,
      communicationItems: items,
    };
    this.contacts.set(id, contact);
    return contact;
  }

  addAgreement(
    companyId: number,
    input: { name: string; type?: string; additions?: Array<{ product: string; quantity: number }> },
  ): SimAgreement {
    const company = this.company(companyId);
    const id = this.id();
    const agreement: SimAgreement = {
      id,
      name: input.name,
      type: { id: 5, name: input.type ?? 'Managed Services' },
      company: { id: company.id, identifier: company.identifier, name: company.name },
      contact: company.defaultContact,
      agreementStatus: 'Active',
      cancelledFlag: false,
      startDate: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    this.agreements.set(id, agreement);
    this.additions.set(
      id,
      (input.additions ?? []).map((a) => ({
        id: this.id(),
        product: { id: this.id(), identifier: a.product },
        quantity: a.quantity,
        description: a.product,
        agreementId: id,
        cancelledDate: null,
        billCustomer: 'Billable',
      })),
    );
    return agreement;
  }

  addOpportunity(companyId: number, input: { name: string }): SimOpportunity {
    const company = this.company(companyId);
    const opportunity: SimOpportunity = {
      id: this.id(),
      name: input.name,
      company: { id: company.id, identifier: company.identifier, name: company.name },
      contact: company.defaultContact,
      status: { id: 1, name: 'Open' },
      stage: { id: 8, name: '3.Quote' },
      closedDate: null,
    };
    this.opportunities.set(opportunity.id, opportunity);
    return opportunity;
  }

  /** As ConnectWise's Cancel on an agreement: flagged cancelled, its status Cancelled. */
  cancelAgreement(id: number): SimAgreement {
    const agreement = this.agreements.get(id);
    if (!agreement) throw new Error(`no agreement ${id}`);
    agreement.cancelledFlag = true;
    agreement.agreementStatus = 'Cancelled';
    return agreement;
  }

  winOpportunity(id: number): SimOpportunity {
    const opportunity = this.opportunities.get(id);
    if (!opportunity) throw new Error(`no opportunity ${id}`);
    opportunity.status = { id: 2, name: 'Won' };
    opportunity.closedDate = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    return opportunity;
  }

  registerCallback(input: {
    url: string;
    type: string;
    level: string;
    objectId: number;
    description?: string;
  }): SimCallbackEntry {
    const entry: SimCallbackEntry = {
      id: this.id(),
      ...(input.description === undefined ? {} : { description: input.description }),
      url: input.url,
      objectId: input.objectId,
      type: input.type.toLowerCase(),
      level: input.level.toLowerCase(),
      memberId: 243,
      payloadVersion: '3.0.0',
      inactiveFlag: false,
      isSoapCallbackFlag: false,
      isSelfSuppressedFlag: false,
      connectWiseID: randomUUID(),
      signingKey: randomBytes(24).toString('base64url'),
      keyId: randomUUID(),
      _info: { lastUpdated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), updatedBy: this.companyName },
    };
    this.callbacks.push(entry);
    return entry;
  }

  company(id: number): SimCompany {
    const company = this.companies.get(id);
    if (!company) throw new Error(`no company ${id}`);
    return company;
  }
}
