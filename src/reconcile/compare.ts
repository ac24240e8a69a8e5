import type { OfferingItem } from '../acronis/offering-items.js';
import type { ListedTenant } from '../acronis/tenant-listing.js';
import type { Usage } from '../acronis/usages.js';
import type { ListedUser } from '../acronis/user-listing.js';
import type { Profile } from '../onboarding/profile.js';
import { compareItems } from './compare-items.js';
import type { Difference, FunnelFacts } from './drift.js';
import type { Expectation } from './expected.js';

/** What a sweep read about one customer's tenant (details only for the tenants it read them for). */
export interface Observed {
  /** Undefined: no tenant (deleted or never found) carries the customer's id. */
  tenant: ListedTenant | undefined;
  items: readonly OfferingItem[];
  /** The admin user the record names, or undefined when it is gone. */
  admin: ListedUser | undefined;
  /** From the usages, or known from an earlier sweep (an agent once registered is not asked again). */
  agentRegistered: boolean;
}

/** Usage names of workloads an agent protects: any above zero means an agent is registered. */
export const AGENT_USAGE_NAMES = ['workstations', 'servers', 'vms', 'mobiles'];

export function agentRegistered(usages: readonly Usage[]): boolean {
  return usages.some((u) => AGENT_USAGE_NAMES.includes(u.usage_name) && u.value > 0);
}

export function funnelOf(observed: Observed): FunnelFacts {
  return {
    created: observed.tenant !== undefined,
    activated: observed.admin?.activated === true,
    agentRegistered: observed.agentRegistered,
  };
}

/** Every way the customer's tenant differs from its profile and our record, in words. */
export function compareCustomer(
  profile: Profile,
  expected: Expectation,
  observed: Observed,
  record: { tenantId?: string | undefined; userId?: string | undefined },
): Difference[] {
  const { tenant } = observed;
  if (!tenant) {
    const text = `no tenant with this customer_id exists (recorded tenant ${record.tenantId ?? 'none'})`;
    return [{ kind: 'tenant-missing', field: 'tenant', expected: 'exists', actual: 'missing', text }];
  }
  return [
    ...compareTenant(profile, expected, tenant),
    ...compareItems(expected, observed.items),
    ...compareAdmin(profile, observed.admin, record.userId),
    ...(observed.agentRegistered ? [] : [noAgent()]),
  ];
}

function compareTenant(profile: Profile, expected: Expectation, tenant: ListedTenant): Difference[] {
  const out: Difference[] = [];
  if (tenant.enabled !== expected.enabled) {
    out.push(
      tenant.enabled
        ? {
            kind: 'tenant-enabled',
            field: 'enabled',
            expected: 'false',
            actual: 'true',
            text: `the tenant is enabled, but ${expected.disabledBy ?? 'an action of ours'} disabled it`,
          }
        : {
            kind: 'tenant-disabled',
            field: 'enabled',
            expected: 'true',
            actual: 'false',
            text: 'the tenant is disabled, and no suspend or offboard of acronis-onboard says so',
          },
    );
  }
  // Trial is where a customer starts; production is one-way: only a profile asking for production can be unmet.
  if (
    profile.pricing_mode === 'production' &&
    tenant.pricing_mode !== undefined &&
    tenant.pricing_mode !== 'production'
  ) {
    out.push({
      kind: 'pricing',
      field: 'pricing_mode',
      expected: 'production',
      actual: tenant.pricing_mode,
      text: `pricing is ${tenant.pricing_mode}; the profile says production`,
    });
  }
  if (profile.mfa !== undefined && tenant.mfa_status !== undefined) {
    const on = tenant.mfa_status === 'enabled';
    if (on !== profile.mfa)
      out.push({
        kind: 'mfa',
        field: 'mfa_status',
        expected: profile.mfa ? 'enabled' : 'disabled',
        actual: tenant.mfa_status,
        text: `two-factor sign-in is ${tenant.mfa_status}; the profile says ${profile.mfa ? 'enabled' : 'disabled'}`,
      });
  }
  return out;
}

function compareAdmin(profile: Profile, admin: ListedUser | undefined, userId: string | undefined): Difference[] {
  if (!admin || admin.deleted_at) {
    const text = userId ? `the admin user ${userId} is gone` : 'no admin user is recorded for this customer';
    return [{ kind: 'admin-missing', field: 'admin', expected: 'present', actual: 'missing', text }];
  }
  const out: Difference[] = [];
  if (profile.activation !== 'none' && !admin.activated) {
    out.push({
      kind: 'admin-not-activated',
      field: 'admin:activated',
      expected: 'true',
      actual: 'false',
      text: `the admin ${admin.login} has not activated the account (never signed in)`,
    });
  }
  const roles = (admin.access_policies ?? []).filter((p) => p.tenant_id === admin.tenant_id).map((p) => p.role_id);
  const wanted = [...profile.roles].sort();
  const actual = [...new Set(roles)].sort();
  if (admin.access_policies !== undefined && wanted.join(',') !== actual.join(',')) {
    out.push({
      kind: 'admin-role',
      field: 'admin:roles',
      expected: wanted.join(' '),
      actual: actual.join(' ') || 'none',
      text: `the admin ${admin.login} has role ${actual.join(', ') || 'none'}; the profile says ${wanted.join(', ')}`,
    });
  }
  return out;
}

function noAgent(): Difference {
  return {
    kind: 'no-agent',
    field: 'agents',
    expected: 'at least one',
    actual: 'none',
    text: 'no agent is registered yet (no workstation, server, VM or mobile in the usages)',
  };
}
