/**
 * The simulated Pipedrive's records: organizations (with custom fields keyed by 40-character
 * hashes, as Pipedrive names them), persons, deals with their products, notes, and the webhooks
 * registered on it (event action and object, HTTP Basic user and password).
 */

export interface SimOrganization {
  id: number;
  name: string;
  owner_id: number;
  address: { value: string; country: string } | null;
  custom_fields: Record<string, string | null>;
  add_time: string;
  update_time: string;
}

export interface SimPerson {
  id: number;
  name: string;
  first_name: string;
  last_name: string;
  emails: Array<{ value: string; primary: boolean; label: string }>;
  phones: Array<{ value: string; primary: boolean; label: string }>;
  org_id: number | null;
}

export interface SimDeal {
  id: number;
  title: string;
  status: 'open' | 'won' | 'lost';
  value: number;
  currency: string;
  org_id: number | null;
  person_id: number | null;
  pipeline_id: number;
  stage_id: number;
  owner_id: number;
  add_time: string;
  update_time: string | null;
  won_time: string | null;
  first_won_time: string | null;
  close_time: string | null;
}

export interface SimDealProduct {
  id: number;
  deal_id: number;
  product_id: number;
  name: string;
  quantity: number;
  item_price: number;
  sum: number;
}

export interface SimNote {
  id: number;
  content: string;
  org_id: number | null;
  add_time: string;
}

export interface SimWebhook {
  id: number;
  subscription_url: string;
  event_action: 'create' | 'change' | 'delete' | '*';
  event_object: string;
  http_auth_user: string | null;
  http_auth_password: string | null;
}

/** The organization custom fields every simulated account has (what the write-back writes). */
export const ORGANIZATION_FIELDS = {
  tenant_id: '5c1b7a0e3f9d4b2a8e6c1d0f9a8b7c6d5e4f3a2b',
  admin_login: '6d2c8b1f4a0e5c3b9f7d2e1a0b9c8d7e6f5a4b3c',
  state: '7e3d9c2a5b1f6d4c0a8e3f2b1c0d9e8f7a6b5c4d',
};

export const OWNER_ID = 12_415_231;

/** An organization, its person and their open deal, with products. */
export interface DealInput {
  organization: string;
  country?: string;
  person: { firstName: string; lastName: string; email: string | null };
  products?: Array<{ name: string; quantity: number }>;
}

export class PipedriveWorld {
  readonly organizations = new Map<number, SimOrganization>();
  readonly persons = new Map<number, SimPerson>();
  readonly deals = new Map<number, SimDeal>();
  readonly dealProducts = new Map<number, SimDealProduct[]>();
  readonly notes: SimNote[] = [];
  readonly webhooks: SimWebhook[] = [];
  readonly writes: Array<{ method: string; path: string; body: unknown }> = [];
  private nextId = 100;

  id(): number {
    return this.nextId++;
  }

  addOrganization(input: { name: string; country?: string }): SimOrganization {
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const org: SimOrganization = {
      id: this.id(),
      name: input.name,
      owner_id: OWNER_ID,
      address: input.country ? { value: `Main street 1, ${input.country}`, country: input.country } : null,
      custom_fields: Object.fromEntries(Object.values(ORGANIZATION_FIELDS).map((k) => [k, null])),
      add_time: now,
      update_time: now,
    };
    this.organizations.set(org.id, org);
    return org;
  }

  addPerson(input: { firstName: string; lastName: string; email: string | null; orgId: number }): SimPerson {
    const person: SimPerson = {
      id: this.id(),
      name: `${input.firstName} ${input.lastName}`,
      first_name: input.firstName,
      last_name: input.lastName,
      emails: input.email ? [{ value: input.email, primary: true, label: 'work' }] : [],
      phones: [{ value: '+372 5555 0100', primary: true, label: 'work' }],
      org_id: input.orgId,
    };
    this.persons.set(person.id, person);
    return person;
  }

  addDeal(input: {
    title: string;
    orgId: number | null;
    personId: number | null;
    products?: Array<{ name: string; quantity: number }>;
  }): SimDeal {
    const deal: SimDeal = {
      id: this.id(),
      title: input.title,
      status: 'open',
      value: 0,
      currency: 'EUR',
      org_id: input.orgId,
      person_id: input.personId,
      pipeline_id: 1,
      stage_id: 2,
      owner_id: OWNER_ID,
      add_time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      update_time: null,
      won_time: null,
      first_won_time: null,
      close_time: null,
    };
    const products = (input.products ?? []).map((p) => ({
      id: this.id(),
      deal_id: deal.id,
      product_id: this.id(),
      name: p.name,
      quantity: p.quantity,
      item_price: 10,
      sum: 10 * p.quantity,
    }));
    deal.value = products.reduce((total, p) => total + p.sum, 0);
    this.deals.set(deal.id, deal);
    this.dealProducts.set(deal.id, products);
    return deal;
  }

  addDealWithParties(input: DealInput): SimDeal {
    const org = this.addOrganization({
      name: input.organization,
      ...(input.country ? { country: input.country } : {}),
    });
    const person = this.addPerson({ ...input.person, orgId: org.id });
    return this.addDeal({
      title: `${input.organization} deal`,
      orgId: org.id,
      personId: person.id,
      ...(input.products ? { products: input.products } : {}),
    });
  }

  registerWebhook(input: {
    url: string;
    user?: string;
    password?: string;
    action?: SimWebhook['event_action'];
    object?: string;
  }): SimWebhook {
    const webhook: SimWebhook = {
      id: 4_710_827 + this.webhooks.length,
      subscription_url: input.url,
      event_action: input.action ?? '*',
      event_object: input.object ?? 'deal',
      http_auth_user: input.user ?? null,
      http_auth_password: input.password ?? null,
    };
    this.webhooks.push(webhook);
    return webhook;
  }

  organization(id: number): SimOrganization {
    const org = this.organizations.get(id);
    if (!org) throw new Error(`no simulated Pipedrive organization ${id}`);
    return org;
  }
}
