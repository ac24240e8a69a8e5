import { randomBytes } from 'node:crypto';

/**
 * The simulated Salesforce org's records: Accounts, Contacts, Opportunities and their products
 * (OpportunityLineItem), with ids in Salesforce's 18-character form and its key prefixes.
 */

export const SOBJECT_TYPES = ['Account', 'Contact', 'Opportunity', 'OpportunityLineItem'] as const;
export type SObjectType = (typeof SOBJECT_TYPES)[number];
export type FieldValue = string | number | boolean | null;
export type StoredRecord = Record<string, FieldValue> & { Id: string };

/** Salesforce's key prefixes: the first three characters of every id of the type. */
const KEY_PREFIX: Record<SObjectType | 'Notification', string> = {
  Account: '001',
  Contact: '003',
  Opportunity: '006',
  OpportunityLineItem: '00k',
  Notification: '04l',
};

/** Standard Account fields a fresh org has (a subset); PATCHing another is refused until it is created. */
const ACCOUNT_FIELDS = ['Name', 'BillingCountry', 'BillingCity', 'Phone', 'Website', 'Industry', 'Description'];

export interface AccountWrite {
  accountId: string;
  fields: Record<string, FieldValue>;
  at: number;
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export class SalesforceStore {
  private readonly records = new Map<SObjectType, Map<string, StoredRecord>>(SOBJECT_TYPES.map((t) => [t, new Map()]));
  private next = 1;
  readonly accountFields = new Set(ACCOUNT_FIELDS);
  readonly accountWrites: AccountWrite[] = [];

  /** A fresh id of the type: prefix, a serial, and three random characters where Salesforce has its case checksum. */
  newId(type: SObjectType | 'Notification'): string {
    const serial = String(this.next++).padStart(12, '0');
    const tail = [...randomBytes(3)].map((b) => ALPHANUMERIC[b % ALPHANUMERIC.length]).join('');
    return `${KEY_PREFIX[type]}${serial}${tail}`;
  }

  create(type: SObjectType, fields: Record<string, FieldValue>): string {
    const Id = this.newId(type);
    const now = new Date().toISOString();
    this.table(type).set(Id, { ...fields, Id, CreatedDate: now, LastModifiedDate: now });
    return Id;
  }

  get(type: SObjectType, id: string): StoredRecord | undefined {
    // Salesforce takes the 15-character form of an id too.
    const table = this.table(type);
    return table.get(id) ?? [...table.values()].find((r) => id.length === 15 && r.Id.startsWith(id));
  }

  where(type: SObjectType, field: string, value: string): StoredRecord[] {
    return [...this.table(type).values()].filter((r) => r[field] === value);
  }

  update(type: SObjectType, id: string, fields: Record<string, FieldValue>): StoredRecord | undefined {
    const record = this.get(type, id);
    if (!record) return undefined;
    Object.assign(record, fields, { LastModifiedDate: new Date().toISOString() });
    return record;
  }

  private table(type: SObjectType): Map<string, StoredRecord> {
    return this.records.get(type)!;
  }
}
