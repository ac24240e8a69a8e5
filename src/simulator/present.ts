import { APPLICATIONS, type Application, type CatalogueItem } from './catalogue.js';
import { withOffset, withoutZone, zulu } from './timestamps.js';
import type {
  AccessPolicyRecord,
  ClientRecord,
  ContactRecord,
  EffectiveItem,
  InfraRecord,
  PricingRecord,
  RegistrationTokenRecord,
  TenantRecord,
  UserRecord,
  World,
} from './world.js';

/**
 * Records → API bodies, shaped by the OAS response schemas (`tenant`, `tenantBatch`, `user`,
 * `items_3`, …). Timestamps deliberately mix formats (docs/acronis-api.md §9.5).
 */

type Body = Record<string, unknown>;

const CONTACT_FIELDS = [
  'address1',
  'address2',
  'country',
  'state',
  'city',
  'zipcode',
  'phone',
  'title',
  'website',
  'industry',
  'organization_size',
  'email_confirmed',
  'aan',
  'fax',
  'language',
] as const;

export function presentContact(contact: ContactRecord, defaultTypes: string[]): Body {
  const body: Body = {
    id: contact.id,
    created_at: withOffset(contact.createdAt),
    updated_at: withOffset(contact.updatedAt),
    types: defaultTypes,
    email: '',
    firstname: '',
    lastname: '',
  };
  for (const field of CONTACT_FIELDS) body[field] = null;
  for (const [key, value] of Object.entries(contact.fields)) if (value !== undefined) body[key] = value;
  return body;
}

export type Lod = 'stamps' | 'basic' | 'full';

export function presentTenant(
  world: World,
  tenant: TenantRecord,
  options: { lod?: Lod; withContacts?: boolean; batch?: boolean; offeringItems?: Body[] } = {},
): Body {
  const lod = options.lod ?? 'full';
  const contact = presentContact(tenant.contact, ['legal']);
  const body: Body = {
    id: tenant.id,
    parent_id: tenant.parentId ?? tenant.id,
    version: tenant.version,
    created_at: withOffset(tenant.createdAt),
    updated_at: withOffset(tenant.updatedAt),
    deleted_at: tenant.deletedAt === null ? null : withOffset(tenant.deletedAt),
    contacts: options.withContacts ? [{ ...contact, tenant_id: tenant.id, user_id: null }] : [],
  };
  // The batch schemas require `offering_items` (filled with `expand_offering_items`).
  if (options.batch) body.offering_items = options.offeringItems ?? [];
  if (lod === 'stamps') return body;
  body.name = tenant.name;
  body.kind = tenant.kind;
  body.enabled = tenant.enabled;
  if (lod === 'basic') return body;
  const pricing = world.pricing.get(tenant.id);
  Object.assign(body, {
    customer_type: tenant.customerType,
    customer_id: tenant.customerId,
    brand_id: tenant.brandId,
    brand_uuid: tenant.brandUuid,
    brand_enabled: false,
    internal_tag: tenant.internalTag,
    language: tenant.language,
    owner_id: tenant.ownerId,
    has_children: world.children(tenant.id).length > 0,
    default_idp_id: tenant.defaultIdpId,
    update_lock: { enabled: tenant.updateLock.enabled, owner_id: tenant.updateLock.ownerId },
    ancestral_access: tenant.ancestralAccess,
    mfa_status: tenant.mfaStatus,
    pricing_mode: pricing?.mode ?? 'production',
    production_start_date: pricing?.productionStartDate ? withoutZone(pricing.productionStartDate) : null,
    external_operation_status: null,
    contact,
  });
  if (options.batch) body.barrier = 0;
  return body;
}

export function presentUser(user: UserRecord): Body {
  return {
    id: user.id,
    version: user.version,
    tenant_id: user.tenantId,
    login: user.login,
    contact: presentContact(user.contact, []),
    activated: user.activated,
    enabled: user.enabled,
    terms_accepted: false,
    created_at: withOffset(user.createdAt),
    updated_at: withOffset(user.updatedAt),
    deleted_at: user.deletedAt === null ? null : withOffset(user.deletedAt),
    language: user.language,
    idp_id: user.idpId,
    personal_tenant_id: user.personalTenantId,
    business_types: user.businessTypes,
    notifications: user.notifications,
    mfa_status: user.mfaStatus,
    ...(user.externalId !== null ? { external_id: user.externalId } : {}),
  };
}

export function presentItem(tenantId: string, effective: EffectiveItem): Body {
  const { item } = effective;
  return {
    application_id: item.applicationId,
    name: item.name,
    edition: item.edition,
    usage_name: item.usageName,
    tenant_id: tenantId,
    updated_at: withoutZone(effective.updatedAt),
    deleted_at: null,
    status: effective.status,
    locked: false,
    type: item.type,
    measurement_unit: item.measurementUnit,
    ...(item.infraId ? { infra_id: item.infraId } : {}),
    ...(effective.quota ? { quota: { ...effective.quota } } : {}),
  };
}

export function presentPricing(pricing: PricingRecord): Body {
  return {
    mode: pricing.mode,
    currency: pricing.currency,
    version: pricing.version,
    production_start_date: pricing.productionStartDate === null ? null : withoutZone(pricing.productionStartDate),
  };
}

export function presentClient(client: ClientRecord): Body {
  return {
    client_id: client.clientId,
    tenant_id: client.tenantId,
    client_secret_expires_at: 0,
    type: client.type,
    data: client.data,
    token_endpoint_auth_method: client.tokenEndpointAuthMethod,
    created_at: withOffset(client.createdAt),
    created_by: client.createdBy,
    last_access_at: client.lastAccessAt === null ? null : withOffset(client.lastAccessAt),
    last_access_from_ip: client.lastAccessFromIp,
    status: client.status,
    ...(client.redirectUris ? { redirect_uris: client.redirectUris } : {}),
    ...(client.originId ? { origin_id: client.originId } : {}),
  };
}

export function presentPolicy(policy: AccessPolicyRecord): Body {
  return {
    id: policy.id,
    version: policy.version,
    created_at: withoutZone(policy.createdAt),
    updated_at: withoutZone(policy.updatedAt),
    deleted_at: null,
    trustee_id: policy.trusteeId,
    trustee_type: policy.trusteeType,
    issuer_id: policy.issuerId,
    tenant_id: policy.tenantId,
    role_id: policy.roleId,
  };
}

export function presentRegistrationToken(world: World, record: RegistrationTokenRecord): Body {
  const tenant = world.tenants.get(record.tenantId);
  return {
    id: record.id,
    token: record.token,
    created_at: zulu(record.createdAt),
    expires_at: zulu(record.expiresAt),
    // The numeric legacy id, as a string (docs/acronis-api.md §7).
    tenant_id: String(tenant?.legacyId ?? 0),
    tenant_uuid: record.tenantId,
    scopes: record.scopes,
  };
}

export function presentInfra(infra: InfraRecord): Body {
  return {
    id: infra.id,
    owner_tenant_id: infra.ownerTenantId,
    location_id: infra.locationId,
    platform_owned: true,
    name: infra.name,
    url: infra.url,
    capabilities: infra.capabilities,
    backend_type: infra.backendType,
    version: infra.version,
    readonly: false,
  };
}

export function presentApplication(application: Application, catalogue: CatalogueItem[]): Body {
  const usages = [
    ...new Set(catalogue.filter((item) => item.applicationId === application.id).map((item) => item.usageName)),
  ];
  return { ...application, usages };
}

export function presentApplications(catalogue: CatalogueItem[]): Body[] {
  return APPLICATIONS.map((application) => presentApplication(application, catalogue));
}
