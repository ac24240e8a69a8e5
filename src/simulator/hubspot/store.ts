/**
 * The simulated HubSpot's records: companies, contacts, deals, line items, products and the
 * associations between them, with the properties HubSpot's CRM v3 API returns as strings.
 */

export const OBJECT_TYPES = ['deals', 'companies', 'contacts', 'line_items', 'products'] as const;
export type ObjectType = (typeof OBJECT_TYPES)[number];

export interface StoredObject {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
}

/** The singular HubSpot uses in association type names (`deal_to_company`). */
const SINGULAR: Record<ObjectType, string> = {
  deals: 'deal',
  companies: 'company',
  contacts: 'contact',
  line_items: 'line_item',
  products: 'product',
};

/**
 * Company properties a fresh HubSpot account has (a subset); PATCHing any other name is refused
 * as HubSpot does, until it is created (docs/sources.md "HubSpot", write-back).
 */
const DEFAULT_COMPANY_PROPERTIES = ['name', 'domain', 'country', 'city', 'phone', 'address', 'zip', 'industry'];

export interface WriteBackRecord {
  companyId: string;
  properties: Record<string, string>;
  at: number;
}

export class HubSpotStore {
  private readonly objects = new Map<ObjectType, Map<string, StoredObject>>(OBJECT_TYPES.map((t) => [t, new Map()]));
  private readonly links = new Map<string, Set<string>>();
  private nextId = 1000;
  readonly companyProperties = new Set(DEFAULT_COMPANY_PROPERTIES);
  readonly writeBacks: WriteBackRecord[] = [];

  create(type: ObjectType, properties: Record<string, string | number | null>): string {
    const id = String(this.nextId++);
    const now = new Date().toISOString();
    const props: Record<string, string | null> = { hs_object_id: id, createdate: now, hs_lastmodifieddate: now };
    for (const [name, value] of Object.entries(properties)) props[name] = value === null ? null : String(value);
    this.table(type).set(id, { id, properties: props, createdAt: now, updatedAt: now });
    return id;
  }

  get(type: ObjectType, id: string): StoredObject | undefined {
    return this.table(type).get(id);
  }

  all(type: ObjectType): StoredObject[] {
    return [...this.table(type).values()];
  }

  update(type: ObjectType, id: string, properties: Record<string, string>): StoredObject | undefined {
    const object = this.get(type, id);
    if (!object) return undefined;
    const now = new Date().toISOString();
    Object.assign(object.properties, properties, { hs_lastmodifieddate: now });
    object.updatedAt = now;
    return object;
  }

  associate(fromType: ObjectType, fromId: string, toType: ObjectType, toId: string): void {
    this.linkSet(fromType, fromId, toType).add(toId);
    this.linkSet(toType, toId, fromType).add(fromId);
  }

  associated(fromType: ObjectType, fromId: string, toType: ObjectType): string[] {
    return [...(this.links.get(`${fromType}:${fromId}:${toType}`) ?? [])];
  }

  associationType(fromType: ObjectType, toType: ObjectType): string {
    return `${SINGULAR[fromType]}_to_${SINGULAR[toType]}`;
  }

  private linkSet(fromType: ObjectType, fromId: string, toType: ObjectType): Set<string> {
    const key = `${fromType}:${fromId}:${toType}`;
    let set = this.links.get(key);
    if (!set) this.links.set(key, (set = new Set()));
    return set;
  }

  private table(type: ObjectType): Map<string, StoredObject> {
    return this.objects.get(type)!;
  }
}
