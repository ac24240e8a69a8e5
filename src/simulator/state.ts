import {
  presentClient,
  presentItem,
  presentPolicy,
  presentPricing,
  presentRegistrationToken,
  presentTenant,
  presentUser,
} from './present.js';
import { withOffset, zulu } from './timestamps.js';
import type { World } from './world.js';

type Body = Record<string, unknown>;

/** A tenant as GET /tenants/{id} shows it (lod=full), plus two simulator-only fields. */
export type SimulatorTenant = Body & {
  id: string;
  name: string;
  kind: 'root' | 'partner' | 'folder' | 'customer' | 'unit';
  parent_id: string;
  version: number;
  enabled: boolean;
  customer_id: string | null;
  internal_tag: string | null;
  owner_id: string | null;
  pricing_mode: string;
  deleted_at: string | null;
  /** The numeric id registration tokens and usages show. */
  legacy_id: number;
  /** From `settings.enhanced_security` or the top-level `enhanced_security`. */
  enhanced_security: boolean;
};

/** A user as GET /users/{id} shows it, plus when an activation e-mail was last queued and how often mails and passwords were sent. */
export type SimulatorUser = Body & {
  id: string;
  login: string;
  tenant_id: string;
  activated: boolean;
  enabled: boolean;
  personal_tenant_id: string | null;
  deleted_at: string | null;
  activation_email_sent_at: string | null;
  activation_emails_sent: number;
  passwords_set: number;
  /** An activated user's e-mail change waiting for its confirmation link, and how many links were sent. */
  pending_email: string | null;
  email_change_links_sent: number;
};

/** An offering item as GET …/offering_items shows it. */
export type SimulatorOfferingItem = Body & {
  application_id: string;
  name: string;
  edition: string | null;
  usage_name: string;
  tenant_id: string;
  status: 0 | 1;
  type: 'count' | 'feature' | 'infra';
  infra_id?: string;
  quota?: { value: number | null; overage: number | null; version: number };
};

/**
 * GET /__sim/state: what exists "on the server", in API shapes, deleted objects included, so
 * tests can prove what happened (e.g. each tenant exists exactly once after faults).
 */
export interface SimulatorState {
  /** Full tenant objects (lod=full) plus `legacy_id` and `enhanced_security`. */
  tenants: SimulatorTenant[];
  /** User objects plus `activation_email_sent_at` (null until a mail was queued), `activation_emails_sent`, `passwords_set`, `pending_email` and `email_change_links_sent`. */
  users: SimulatorUser[];
  /** Tenant id → the items the tenant lists (all editions). */
  offeringItems: Record<string, SimulatorOfferingItem[]>;
  /** Tenant id → tenantPricingSettings. */
  pricing: Record<string, Body>;
  /** User id → access policy items. */
  accessPolicies: Record<string, Body[]>;
  /** registrationToken objects plus `deleted_at`. */
  registrationTokens: Body[];
  /** client objects (never the secret). */
  clients: Body[];
}

export function snapshotState(world: World): SimulatorState {
  const tenants = [...world.tenants.values()];
  return {
    tenants: tenants.map(
      (t) =>
        ({
          ...presentTenant(world, t),
          legacy_id: t.legacyId,
          enhanced_security: t.enhancedSecurity,
        }) as SimulatorTenant,
    ),
    users: [...world.users.values()].map(
      (u) =>
        ({
          ...presentUser(u),
          activation_email_sent_at: u.activationEmailSentAt === null ? null : withOffset(u.activationEmailSentAt),
          activation_emails_sent: u.activationEmailsSent,
          passwords_set: u.passwordsSet,
          pending_email: u.pendingEmail,
          email_change_links_sent: u.emailChangeLinksSent,
        }) as SimulatorUser,
    ),
    offeringItems: Object.fromEntries(
      tenants.map((t) => [t.id, world.effectiveItems(t).map((e) => presentItem(t.id, e) as SimulatorOfferingItem)]),
    ),
    pricing: Object.fromEntries([...world.pricing.entries()].map(([id, p]) => [id, presentPricing(p)])),
    accessPolicies: Object.fromEntries(
      [...world.accessPolicies.entries()].map(([id, list]) => [id, list.map(presentPolicy)]),
    ),
    registrationTokens: world.registrationTokens.map((r) => ({
      ...presentRegistrationToken(world, r),
      deleted_at: r.deletedAt === null ? null : zulu(r.deletedAt),
    })),
    clients: [...world.clients.values()].map(presentClient),
  };
}
