import { randomUUID } from 'node:crypto';

/**
 * The simulated Autotask's records: companies (with user-defined fields), contacts, company
 * notes and the company webhooks registered on it, with their subscribed and display-always fields.
 */

export interface SimUdf {
  name: string;
  value: string | null;
}

export interface SimCompany {
  id: number;
  companyName: string;
  /** Autotask's default picklist: 1 Customer, 2 Lead, 3 Prospect, … */
  companyType: number;
  companyNumber: string;
  isActive: boolean;
  phone: string;
  city: string;
  postalCode: string;
  countryID: number;
  webAddress: string | null;
  userDefinedFields: SimUdf[];
}

export interface SimContact {
  id: number;
  companyID: number;
  firstName: string;
  lastName: string;
  emailAddress: string | null;
  phone: string;
  title: string | null;
  isActive: number;
  primaryContact: boolean;
}

export interface SimNote {
  id: number;
  companyID: number;
  title: string;
  description: string;
  actionType: number;
}

export interface SimWebhook {
  id: number;
  guid: string;
  url: string;
  deactivationUrl: string;
  secretKey: string;
  isActive: boolean;
  createEvents: boolean;
  updateEvents: boolean;
  /** Fields (and UDF names) whose change sends a callout. */
  subscribedFields: string[];
  /** Fields always in the payload when a callout is sent. */
  displayAlwaysFields: string[];
  sequence: number;
}

export interface CompanyInput {
  companyName: string;
  companyType?: number;
  udfs?: Record<string, string | null>;
  contact?: { firstName: string; lastName: string; emailAddress: string | null };
}

/** The company UDFs every simulated company has (what the write-back writes). */
export const WRITE_BACK_UDFS = ['Acronis tenant id', 'Acronis admin login', 'Acronis state'];

export class AutotaskWorld {
  readonly companies = new Map<number, SimCompany>();
  readonly contacts = new Map<number, SimContact>();
  readonly notes = new Map<number, SimNote[]>();
  readonly webhooks: SimWebhook[] = [];
  /** Every write the API accepted: method, path, body. */
  readonly writes: Array<{ method: string; path: string; body: unknown }> = [];
  private nextId = 29_683_500;

  id(): number {
    return this.nextId++;
  }

  addCompany(input: CompanyInput): SimCompany {
    const id = this.id();
    const udfs = { ...Object.fromEntries(WRITE_BACK_UDFS.map((n) => [n, null])), ...input.udfs };
    const company: SimCompany = {
      id,
      companyName: input.companyName,
      companyType: input.companyType ?? 3,
      companyNumber: `C${id}`,
      isActive: true,
      phone: '+1 555 0100',
      city: 'Springfield',
      postalCode: '12345',
      countryID: 237,
      webAddress: null,
      userDefinedFields: Object.entries(udfs).map(([name, value]) => ({ name, value })),
    };
    this.companies.set(id, company);
    this.notes.set(id, []);
    if (input.contact) {
      const contactId = this.id();
      this.contacts.set(contactId, {
        id: contactId,
        companyID: id,
        ...input.contact,
        phone: '+1 555 0101',
        title: 'IT manager',
        isActive: 1,
        primaryContact: true,
      });
    }
    return company;
  }

  company(id: number): SimCompany {
    const company = this.companies.get(id);
    if (!company) throw new Error(`no simulated Autotask company ${id}`);
    return company;
  }

  udf(companyId: number, name: string): string | null | undefined {
    return this.company(companyId).userDefinedFields.find((u) => u.name === name)?.value;
  }

  registerWebhook(input: Omit<SimWebhook, 'id' | 'guid' | 'sequence' | 'isActive'>): SimWebhook {
    // Autotask requires both URLs to create a webhook.
    if (!input.url || !input.deactivationUrl) throw new Error('a webhook needs a WebhookUrl and a DeactivationUrl');
    const webhook: SimWebhook = {
      ...input,
      id: this.webhooks.length + 1,
      guid: randomUUID(),
      sequence: 0,
      isActive: true,
    };
    this.webhooks.push(webhook);
    return webhook;
  }
}
