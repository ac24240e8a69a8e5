import { createHash } from 'node:crypto';
import {
  ALWAYS_ON_APPLICATIONS,
  APPLICATIONS,
  BACKUP_APPLICATION_ID,
  DR_STORAGE,
  buildCatalogue,
  itemKey,
  regularStorage,
  type CatalogueItem,
  type InfraSeed,
} from './catalogue.js';
import { forbidden, notFound, PlatformCode, SimError } from './errors.js';
import type { IdSource } from './ids.js';
import type {
  AccessPolicyRecord,
  AccessTokenRecord,
  Caller,
  ClientRecord,
  ContactRecord,
  EffectiveItem,
  InfraRecord,
  ItemState,
  PricingRecord,
  RegistrationTokenRecord,
  SimulatorSeed,
  TenantKind,
  TenantRecord,
  UserRecord,
} from './records.js';

export type * from './records.js';

/**
 * The simulated cloud's state: plain records in maps, the seeded world, and the lookups
 * every route needs (subtree membership, the items a tenant effectively has). Business rules
 * of one endpoint live with its route; rules shared by several live here.
 */

/** The platform's default identity provider (DOC examples). */
export const DEFAULT_IDP_ID = '11111111-1111-1111-1111-111111111111';

export function hashPassword(password: string): string {
  return createHash('sha256').update(`acronis-sim:${password}`).digest('hex');
}

/** What the options change in the seeded world (docs/simulator.md "The seeded world"). */
export interface WorldShape {
  /** Regular backup storages, one per location; a disaster-recovery storage is always there too. */
  storages: number;
  /** Customers the partner already has. */
  customers: number;
}

/**
 * Who the seeded partner is. One simulator is one data centre; several started together
 * (`startSimulators`) each name their partner and admin apart, as logins are unique across
 * the real cloud.
 */
export interface PartnerSeed {
  name: string;
  adminLogin: string;
}

export const DEFAULT_PARTNER: PartnerSeed = Object.freeze({
  name: 'Simulated Partner',
  adminLogin: 'sim-partner-admin',
});

export class World {
  readonly tenants = new Map<string, TenantRecord>();
  readonly users = new Map<string, UserRecord>();
  readonly clients = new Map<string, ClientRecord>();
  readonly tokens = new Map<string, AccessTokenRecord>();
  readonly itemStates = new Map<string, Map<string, ItemState>>();
  readonly pricing = new Map<string, PricingRecord>();
  readonly accessPolicies = new Map<string, AccessPolicyRecord[]>();
  readonly registrationTokens: RegistrationTokenRecord[] = [];
  /** Explicit application bindings (POST …/bindings/tenants/{id}). */
  readonly appBindings = new Map<string, Set<string>>();
  /** Tenant id → item key → usage the tenant has of it (set through /__sim/usage; nothing here backs anything up). */
  readonly usage = new Map<string, Map<string, number>>();
  readonly infras: InfraRecord[];
  readonly catalogue: CatalogueItem[];
  readonly rootTenantId: string;
  readonly seed: SimulatorSeed;
  tokenGeneration = 0;
  /** parent id → child ids, so hierarchy walks do not scan every tenant. */
  private readonly childIds = new Map<string, Set<string>>();

  private nextSeq = 1;
  private nextLegacyId = 1_415_032;
  private nextRegistrationTokenId = 1;
  private lastVersionStamp = 0;

  /**
   * The seeded world (docs/simulator.md "The seeded world"). What the options add — more
   * storages, existing customers — draws its ids after the partner's credentials, so a seed
   * keeps the same credentials whatever the world's size.
   */
  constructor(
    readonly ids: IdSource,
    shape: WorldShape = { storages: 1, customers: 0 },
    partnerSeed: PartnerSeed = DEFAULT_PARTNER,
  ) {
    const now = this.now();
    this.rootTenantId = this.addTenant({ name: 'Simulated Cloud', kind: 'root', parentId: null }, now).id;
    const firstStorage = this.newInfra(regularStorage(0));
    const drStorage = this.newInfra(DR_STORAGE);
    const partner = this.addTenant({ name: partnerSeed.name, kind: 'partner', parentId: this.rootTenantId }, now);
    const { admin, adminPassword } = this.seedAdmin(partner, partnerSeed.adminLogin, now);
    const client = this.addClient(
      {
        tenantId: partner.id,
        type: 'api_client',
        tokenEndpointAuthMethod: 'client_secret_basic',
        data: { client_name: 'simulator' },
      },
      admin.id,
      now,
    );
    const moreStorages = Array.from({ length: shape.storages - 1 }, (_, i) => this.newInfra(regularStorage(i + 1)));
    this.infras = [firstStorage, ...moreStorages, drStorage];
    this.catalogue = buildCatalogue(this.infras);
    this.sellEverything(partner, now);
    this.seedCustomers(partner, shape.customers, now);
    this.seed = {
      partnerTenantId: partner.id,
      partnerName: partner.name,
      clientId: client.clientId,
      clientSecret: client.secret,
      adminLogin: admin.login,
      adminPassword,
      backupApplicationId: BACKUP_APPLICATION_ID,
      infras: this.infras.map((infra) => ({
        id: infra.id,
        name: infra.name,
        locationId: infra.locationId,
        capabilities: [...infra.capabilities],
      })),
      customers: shape.customers,
    };
  }

  private newInfra(seed: InfraSeed): InfraRecord {
    const id = seed.id ?? this.ids.uuid();
    return {
      id,
      name: seed.name,
      ownerTenantId: this.rootTenantId,
      locationId: this.ids.uuid(),
      locationName: seed.locationName,
      capabilities: seed.capabilities,
      url: `acronis+${seed.backendType}://storage-${id.slice(0, 8)}.sim.acronis.local:44445`,
      backendType: seed.backendType,
      version: 1,
    };
  }

  /** The seeded partner sells everything in the catalogue, without limits. */
  private sellEverything(partner: TenantRecord, now: number): void {
    const partnerItems = new Map<string, ItemState>();
    for (const item of this.catalogue) {
      partnerItems.set(itemKey(item.name, item.infraId), {
        status: 1,
        quota: { value: null, overage: null, version: 0 },
        updatedAt: now,
      });
    }
    this.itemStates.set(partner.id, partnerItems);
  }

  /**
   * The partner's existing customers (`customers: N`): made by hand or by another integration,
   * so without `customer_id`, already in production, with a contact and no items or users.
   */
  private seedCustomers(partner: TenantRecord, count: number, now: number): void {
    const width = String(count).length;
    for (let n = 1; n <= count; n++) {
      const number = String(n).padStart(width, '0');
      this.addTenant(
        {
          name: `Existing Customer ${number}`,
          kind: 'customer',
          parentId: partner.id,
          contactFields: { email: `admin@existing-${number}.example`, firstname: 'Existing', lastname: number },
          pricing: { mode: 'production', currency: null, version: now, productionStartDate: now },
        },
        now,
      );
    }
  }

  /** The partner's activated admin (partner_admin role), whose login:password Basic auth accepts. */
  private seedAdmin(partner: TenantRecord, login: string, now: number): { admin: UserRecord; adminPassword: string } {
    const adminPassword = `Sim-${this.ids.hex(4)}-Pw1!`;
    const admin = this.addUser({ tenantId: partner.id, login, email: 'partner-admin@sim.example' }, now);
    admin.passwordHash = hashPassword(adminPassword);
    admin.activated = true;
    this.accessPolicies.set(admin.id, [
      {
        id: this.ids.uuid(),
        version: 1,
        trusteeId: admin.id,
        trusteeType: 'user',
        issuerId: admin.id,
        tenantId: partner.id,
        roleId: 'partner_admin',
        createdAt: now,
        updatedAt: now,
      },
    ]);
    return { admin, adminPassword };
  }

  now(): number {
    return Date.now();
  }

  /** Quota and pricing versions are ms epochs (docs/acronis-api.md §9.5); kept strictly growing. */
  versionStamp(): number {
    this.lastVersionStamp = Math.max(this.now(), this.lastVersionStamp + 1);
    return this.lastVersionStamp;
  }

  newContact(fields: Record<string, unknown>, now: number): ContactRecord {
    return { id: this.ids.uuid(), createdAt: now, updatedAt: now, fields: { ...fields } };
  }

  addTenant(
    input: Partial<TenantRecord> & {
      name: string;
      kind: TenantKind;
      parentId: string | null;
      contactFields?: Record<string, unknown>;
      /** Instead of the kind's initial pricing (§3.1). */
      pricing?: PricingRecord;
    },
    now: number,
  ): TenantRecord {
    const parent = input.parentId ? this.tenants.get(input.parentId) : undefined;
    const { contactFields, pricing, ...rest } = input;
    const tenant: TenantRecord = {
      id: this.ids.uuid(),
      legacyId: this.nextLegacyId++,
      seq: this.nextSeq++,
      version: 1,
      enabled: true,
      customerType: 'default',
      customerId: null,
      internalTag: null,
      language: 'en',
      ownerId: null,
      defaultIdpId: DEFAULT_IDP_ID,
      brandId: parent?.brandId ?? 3579,
      brandUuid: parent?.brandUuid ?? this.ids.uuid(),
      updateLock: { enabled: false, ownerId: null },
      ancestralAccess: true,
      enhancedSecurity: false,
      mfaStatus: 'disabled',
      contact: this.newContact(contactFields ?? {}, now),
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      ...rest,
    };
    this.tenants.set(tenant.id, tenant);
    if (tenant.parentId) this.linkChild(tenant.parentId, tenant.id);
    this.pricing.set(tenant.id, pricing ?? initialPricing(tenant.kind, now, this.versionStamp()));
    return tenant;
  }

  addUser(
    input: { tenantId: string; login: string; email: string; contactFields?: Record<string, unknown> },
    now: number,
  ): UserRecord {
    const user: UserRecord = {
      id: this.ids.uuid(),
      version: 1,
      tenantId: input.tenantId,
      login: input.login,
      passwordHash: null,
      activated: false,
      enabled: true,
      language: 'en',
      businessTypes: [],
      notifications: ['quota', 'reports', 'backup_daily_report'],
      contact: this.newContact({ email: input.email, ...input.contactFields }, now),
      externalId: null,
      idpId: DEFAULT_IDP_ID,
      personalTenantId: null,
      mfaStatus: 'disabled',
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      activationEmailSentAt: null,
      activationEmailsSent: 0,
      passwordsSet: 0,
      pendingEmail: null,
      emailChangeLinksSent: 0,
    };
    this.users.set(user.id, user);
    return user;
  }

  addClient(
    input: Pick<ClientRecord, 'tenantId' | 'type' | 'tokenEndpointAuthMethod' | 'data'> &
      Partial<Pick<ClientRecord, 'redirectUris' | 'originId'>>,
    createdBy: string,
    now: number,
  ): ClientRecord {
    const client: ClientRecord = {
      clientId: this.ids.uuid(),
      secret: this.ids.hex(16),
      redirectUris: null,
      originId: null,
      registrationAccessToken: this.ids.base64url(24),
      createdAt: now,
      createdBy,
      lastAccessAt: null,
      lastAccessFromIp: null,
      status: 'enabled',
      ...input,
    };
    this.clients.set(client.clientId, client);
    return client;
  }

  nextRegistrationTokenNumber(): number {
    return this.nextRegistrationTokenId++;
  }

  // ---- hierarchy ----

  ancestors(tenantId: string): TenantRecord[] {
    const out: TenantRecord[] = [];
    let current = this.tenants.get(tenantId);
    while (current?.parentId) {
      const parent = this.tenants.get(current.parentId);
      if (!parent) break;
      out.push(parent);
      current = parent;
    }
    return out;
  }

  isInSubtree(tenantId: string, rootId: string): boolean {
    return tenantId === rootId || this.ancestors(tenantId).some((t) => t.id === rootId);
  }

  private linkChild(parentId: string, childId: string): void {
    let ids = this.childIds.get(parentId);
    if (!ids) {
      ids = new Set();
      this.childIds.set(parentId, ids);
    }
    ids.add(childId);
  }

  /** Children in creation order. */
  children(tenantId: string, includeDeleted = false): TenantRecord[] {
    const out: TenantRecord[] = [];
    for (const id of this.childIds.get(tenantId) ?? []) {
      const child = this.tenants.get(id);
      if (child && (includeDeleted || child.deletedAt === null)) out.push(child);
    }
    return out;
  }

  /** The subtree in level order (root first), as GET /tenants?subtree_root_id= sorts it. */
  subtree(rootId: string, includeDeleted = false): { tenant: TenantRecord; level: number }[] {
    const root = this.tenants.get(rootId);
    if (!root) return [];
    const out = [{ tenant: root, level: 0 }];
    for (let i = 0; i < out.length; i++) {
      const { tenant, level } = out[i] as { tenant: TenantRecord; level: number };
      for (const child of this.children(tenant.id, includeDeleted)) out.push({ tenant: child, level: level + 1 });
    }
    return out;
  }

  /** A tenant the caller may see: 404 when missing or deleted (unless allowed), 403 outside its subtree. */
  visibleTenant(caller: Caller, tenantId: string, options: { allowDeleted?: boolean } = {}): TenantRecord {
    const tenant = this.tenants.get(tenantId);
    if (!tenant || (tenant.deletedAt !== null && !options.allowDeleted)) {
      throw new SimError(404, PlatformCode.tenantNotFound, 'Tenant not found', `Tenant "${tenantId}" not found`);
    }
    if (!this.isInSubtree(tenant.id, caller.tenantId)) {
      throw new SimError(
        403,
        PlatformCode.accessDenied,
        'Access denied',
        `Tenant "${tenantId}" is outside the caller's hierarchy`,
      );
    }
    return tenant;
  }

  visibleUser(caller: Caller, userId: string, options: { allowDeleted?: boolean } = {}): UserRecord {
    const user = this.users.get(userId);
    if (!user || (user.deletedAt !== null && !options.allowDeleted)) throw notFound(`User "${userId}" not found`);
    if (!this.isInSubtree(user.tenantId, caller.tenantId))
      throw forbidden(`User "${userId}" is outside the caller's hierarchy`);
    return user;
  }

  /** Disabled when the tenant or any ancestor is disabled (kb.acronis.com/content/59556). */
  isEffectivelyEnabled(tenantId: string): boolean {
    const tenant = this.tenants.get(tenantId);
    if (!tenant || tenant.deletedAt !== null || !tenant.enabled) return false;
    return this.ancestors(tenantId).every((t) => t.enabled && t.deletedAt === null);
  }

  /** Platform-wide, case-insensitive (docs/acronis-api.md §6.1). */
  userByLogin(login: string): UserRecord | undefined {
    const wanted = login.toLowerCase();
    for (const user of this.users.values())
      if (user.deletedAt === null && user.login.toLowerCase() === wanted) return user;
    return undefined;
  }

  // ---- offering items ----

  ownItemState(tenantId: string, key: string): ItemState | undefined {
    return this.itemStates.get(tenantId)?.get(key);
  }

  setItemState(tenantId: string, key: string, state: ItemState): void {
    let states = this.itemStates.get(tenantId);
    if (!states) {
      states = new Map();
      this.itemStates.set(tenantId, states);
    }
    states.set(key, state);
  }

  /**
   * Status of an item on a tenant. The root has everything; others have what they enabled.
   * A personal (unit) tenant mirrors its parent: assigning a role copies the tenant's items
   * to it (docs/acronis-api.md §6.3) and its items cannot be toggled (§4.4).
   */
  itemStatus(tenant: TenantRecord, item: CatalogueItem): 0 | 1 {
    if (tenant.kind === 'root') return 1;
    const own = this.ownItemState(tenant.id, itemKey(item.name, item.infraId));
    if (own) return own.status;
    if (tenant.kind === 'unit' && tenant.parentId) {
      const parent = this.tenants.get(tenant.parentId);
      return parent ? this.itemStatus(parent, item) : 0;
    }
    return 0;
  }

  /** Whether the tenant's parent offers the item, i.e. the tenant may enable it (code 1021 otherwise). */
  parentOffers(tenant: TenantRecord, item: CatalogueItem): boolean {
    if (!tenant.parentId) return true;
    const parent = this.tenants.get(tenant.parentId);
    return parent ? this.itemStatus(parent, item) === 1 : false;
  }

  /** The items listed for a tenant: what its parent offers plus what it has itself, in catalogue order. */
  effectiveItems(tenant: TenantRecord): EffectiveItem[] {
    const out: EffectiveItem[] = [];
    for (const item of this.catalogue) {
      const own = this.ownItemState(tenant.id, itemKey(item.name, item.infraId));
      if (tenant.kind !== 'root' && !own && !this.parentOffers(tenant, item)) continue;
      const status = this.itemStatus(tenant, item);
      out.push({
        item,
        status,
        // Disabled items have no quota (DOC/acct/offering-items/changing-quotas).
        quota: status === 1 ? (own?.quota ?? { value: null, overage: null, version: 0 }) : null,
        updatedAt: own?.updatedAt ?? tenant.createdAt,
      });
    }
    return out;
  }

  /** What the tenant uses of an item (0 unless /__sim/usage set it). */
  usageOf(tenantId: string, key: string): number {
    return this.usage.get(tenantId)?.get(key) ?? 0;
  }

  setUsage(tenantId: string, key: string, value: number): void {
    let usage = this.usage.get(tenantId);
    if (!usage) {
      usage = new Map();
      this.usage.set(tenantId, usage);
    }
    usage.set(key, value);
  }

  /**
   * Deletes the tenant and everything under it (sub-tenants, their users), as the API does:
   * "sub-tenants, users and backups go with it" (docs/acronis-api.md §3.4).
   */
  deleteTenant(tenantId: string, now: number): void {
    for (const { tenant } of this.subtree(tenantId)) {
      tenant.deletedAt = now;
      tenant.updatedAt = now;
      tenant.version += 1;
      for (const user of this.users.values())
        if (user.tenantId === tenant.id && user.deletedAt === null) user.deletedAt = now;
    }
  }

  catalogueItem(applicationId: string, name: string, infraId: string | undefined): CatalogueItem | undefined {
    return this.catalogue.find(
      (item) => item.applicationId === applicationId && item.name === name && (item.infraId ?? undefined) === infraId,
    );
  }

  /** Applications on for a tenant: explicit bindings, the platform, and any with an enabled item (§4.1). */
  enabledApplications(tenant: TenantRecord): string[] {
    const on = new Set(this.appBindings.get(tenant.id) ?? []);
    for (const id of ALWAYS_ON_APPLICATIONS) on.add(id);
    for (const { item, status } of this.effectiveItems(tenant)) if (status === 1) on.add(item.applicationId);
    return APPLICATIONS.map((a) => a.id).filter((id) => on.has(id));
  }
}

/**
 * Customers start in trial, partners (and everything else) in production (docs/acronis-api.md
 * §3.1, §5). In trial, production_start_date is the automatic switch: the end of the
 * creation month when created on the 1st, else the end of the next month (PYX).
 */
function initialPricing(kind: TenantKind, now: number, version: number): PricingRecord {
  if (kind !== 'customer') return { mode: 'production', currency: null, version, productionStartDate: now };
  const created = new Date(now);
  const monthsAhead = created.getUTCDate() === 1 ? 1 : 2;
  const switchAt = Date.UTC(created.getUTCFullYear(), created.getUTCMonth() + monthsAhead, 1) - 1000;
  return { mode: 'trial', currency: null, version, productionStartDate: switchAt };
}
