/**
 * The records the simulated cloud keeps. They are the simulator's model, not API bodies:
 * src/simulator/present.ts turns them into the OAS shapes.
 */

import type { CatalogueItem } from './catalogue.js';

export type TenantKind = 'root' | 'partner' | 'folder' | 'customer' | 'unit';

export interface ContactRecord {
  id: string;
  createdAt: number;
  updatedAt: number;
  /** The contact fields as sent (contactPut / userPost.contact). */
  fields: Record<string, unknown>;
}

export interface TenantRecord {
  id: string;
  /** The numeric id older APIs use; registration tokens and usages show it (docs/acronis-api.md §7, §8). */
  legacyId: number;
  /** Creation order, the stable sort key of cursor paging. */
  seq: number;
  version: number;
  name: string;
  kind: TenantKind;
  parentId: string | null;
  enabled: boolean;
  customerType: string;
  customerId: string | null;
  internalTag: string | null;
  language: string;
  ownerId: string | null;
  defaultIdpId: string;
  brandId: number | null;
  brandUuid: string;
  updateLock: { enabled: boolean; ownerId: string | null };
  ancestralAccess: boolean;
  enhancedSecurity: boolean;
  mfaStatus: 'disabled' | 'forcibly_disabled' | 'setup_required' | 'enabled';
  contact: ContactRecord;
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
}

export interface UserRecord {
  id: string;
  version: number;
  tenantId: string;
  login: string;
  passwordHash: string | null;
  activated: boolean;
  enabled: boolean;
  language: string;
  businessTypes: string[];
  notifications: string[];
  contact: ContactRecord;
  externalId: string | null;
  idpId: string;
  personalTenantId: string | null;
  mfaStatus: 'disabled' | 'forcibly_disabled' | 'setup_required' | 'enabled';
  createdAt: number;
  updatedAt: number;
  deletedAt: number | null;
  /** When POST /users/{id}/send-activation-email last queued a mail (the user stays not activated). */
  activationEmailSentAt: number | null;
  /** Mails queued by send-activation-email, and passwords set through the API: a soak counts repeats. */
  activationEmailsSent: number;
  passwordsSet: number;
  /** An activated user's new e-mail, waiting for the confirmation link sent to the old one (PUT /users/{id}). */
  pendingEmail: string | null;
  /** Confirmation links sent for e-mail changes: a soak counts repeats. */
  emailChangeLinksSent: number;
}

export interface ClientRecord {
  clientId: string;
  secret: string;
  tenantId: string;
  type: 'api_client' | 'managed_client';
  tokenEndpointAuthMethod: 'client_secret_basic' | 'client_secret_post' | 'none';
  data: Record<string, unknown>;
  redirectUris: string[] | null;
  originId: string | null;
  registrationAccessToken: string;
  createdAt: number;
  createdBy: string;
  lastAccessAt: number | null;
  lastAccessFromIp: string | null;
  status: 'enabled' | 'disabled';
}

export type TokenSubject = { kind: 'client'; clientId: string } | { kind: 'user'; userId: string };

export interface AccessTokenRecord {
  subject: TokenSubject;
  issuedAt: number;
  expiresAt: number;
  /** revokeTokens() bumps the world's generation; older tokens answer 401. */
  generation: number;
}

export interface Quota {
  value: number | null;
  overage: number | null;
  version: number;
}

export interface ItemState {
  status: 0 | 1;
  quota: Quota | null;
  updatedAt: number;
}

export interface EffectiveItem {
  item: CatalogueItem;
  status: 0 | 1;
  quota: Quota | null;
  updatedAt: number;
}

export interface PricingRecord {
  mode: 'trial' | 'production' | 'suspended';
  currency: string | null;
  version: number;
  productionStartDate: number | null;
}

export interface AccessPolicyRecord {
  id: string;
  version: number;
  trusteeId: string;
  trusteeType: 'user';
  issuerId: string;
  tenantId: string;
  roleId: string;
  createdAt: number;
  updatedAt: number;
}

export interface RegistrationTokenRecord {
  id: number;
  token: string;
  tenantId: string;
  createdAt: number;
  expiresAt: number;
  scopes: string[];
  deletedAt: number | null;
}

export interface InfraRecord {
  id: string;
  name: string;
  ownerTenantId: string;
  locationId: string;
  locationName: string;
  capabilities: ('backup' | 'disaster_recovery' | 'files_cloud' | 'vcd')[];
  url: string;
  backendType: string | null;
  version: number;
}

export type Caller =
  { kind: 'client'; clientId: string; tenantId: string } | { kind: 'user'; userId: string; tenantId: string };

export interface SimulatorSeed {
  partnerTenantId: string;
  partnerName: string;
  clientId: string;
  clientSecret: string;
  adminLogin: string;
  adminPassword: string;
  backupApplicationId: string;
  infras: { id: string; name: string; locationId: string; capabilities: string[] }[];
  /** How many existing customers the partner was seeded with. */
  customers: number;
}
