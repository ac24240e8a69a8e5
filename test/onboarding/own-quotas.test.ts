import { describe, expect, it } from 'vitest';
import type { OfferingItem } from '../../src/acronis/offering-items.js';
import { OfferingPlanError, planOfferingItems } from '../../src/onboarding/offering-plan.js';
import { ownQuotasNote, ownQuotasOf, parseQuotaCells, planOwnQuotas } from '../../src/onboarding/own-quotas.js';
import { STANDARD_PROFILE, parseProfile } from '../../src/onboarding/profile.js';

/** A customer's own quotas as a change keeps, replaces and hands back (docs/lifecycle.md "Per-customer quotas"). */

const BACKUP = '6e6d758d-8e74-3ae3-ac84-50eb0dff12eb';
const EU = '11111111-2222-4333-8444-555555555555';
const item = (edition: string, prefix: string, usage: string, extra: Partial<OfferingItem> = {}): OfferingItem => ({
  application_id: BACKUP,
  name: `${prefix}${usage}`,
  edition,
  usage_name: usage,
  tenant_id: '0b5c6d7e-1f2a-4b3c-8d4e-5f6a7b8c9d0e',
  status: 1,
  type: 'count',
  measurement_unit: 'quantity',
  ...extra,
});
const offerOf = (edition: string, prefix: string) => [
  item(edition, prefix, 'workstations'),
  item(edition, prefix, 'servers'),
  item(edition, prefix, 'storage', { type: 'infra', measurement_unit: 'bytes', infra_id: EU }),
];
const perWorkload = offerOf('pck_per_workload', 'pw_base_');
const perGigabyte = offerOf('pck_per_gigabyte', 'pg_base_');
const gigabyteProfile = parseProfile(
  { name: 'pg', editions: ['pck_per_gigabyte'], offering_items: { include: ['workstations', 'storage'] } },
  'test',
);
const quotaOf = (plan: { name: string; quota?: unknown }[], name: string) => plan.find((c) => c.name === name)?.quota;

describe("a customer's own quotas", () => {
  it('the onboarding remembers them by usage_name, whichever name the request used', () => {
    const quotas = { pw_base_workstations: 25, servers: 3 };
    const plan = planOfferingItems({
      available: perWorkload,
      profile: STANDARD_PROFILE,
      edition: 'pck_per_workload',
      customerQuotas: quotas,
    });
    expect(ownQuotasOf(quotas, plan, perWorkload)).toEqual({ workstations: 25, servers: 3 });
  });

  it('kept through an edition switch; one the new profile does not enable is dropped', () => {
    const own = planOwnQuotas({
      available: perGigabyte,
      profile: gigabyteProfile,
      edition: 'pck_per_gigabyte',
      kept: { workstations: 25, servers: 3 },
    });
    expect(quotaOf(own.plan, 'pg_base_workstations')).toEqual({ value: 25, overage: 0, version: 0 });
    expect(own).toMatchObject({ quotas: { workstations: 25 }, kept: ['workstations'], dropped: ['servers'] });
    expect(ownQuotasNote(own)).toBe(
      'own quotas workstations=25 (kept); own quota servers dropped: the profile does not enable it',
    );
  });

  it('a named one replaces the kept one by either name; `profile` hands one back; a number wins over `profile`', () => {
    const base = { available: perWorkload, profile: STANDARD_PROFILE, edition: 'pck_per_workload' };
    const named = planOwnQuotas({ ...base, kept: { workstations: 25 }, named: { pw_base_workstations: 30 } });
    expect(named.quotas).toEqual({ workstations: 30 });
    expect(named.kept).toEqual([]);
    const reset = planOwnQuotas({ ...base, kept: { workstations: 25, servers: 3 }, reset: ['pw_base_workstations'] });
    expect(reset).toMatchObject({ quotas: { servers: 3 }, reset: ['workstations'] });
    // The profile's 50 + 5 again.
    expect(quotaOf(reset.plan, 'pw_base_workstations')).toEqual({ value: 50, overage: 5, version: 0 });
    const both = planOwnQuotas({
      ...base,
      kept: { workstations: 25 },
      reset: ['workstations'],
      named: { workstations: 8 },
    });
    expect(both.quotas).toEqual({ workstations: 8 });
  });

  it('a named quota for an item the profile does not enable is refused naming it, as at onboarding', () => {
    const plan = () =>
      planOwnQuotas({
        available: perGigabyte,
        profile: gigabyteProfile,
        edition: 'pck_per_gigabyte',
        named: { servers: 2 },
      });
    expect(plan).toThrow(OfferingPlanError);
    expect(plan).toThrow(/quotas\.servers: names no item the profile enables/);
  });

  it('quota cells: whole numbers, `profile` in any case, the first bad one named', () => {
    expect(parseQuotaCells({ workstations: ' Profile ', servers: '4' })).toEqual({
      ok: true,
      named: { quotas: { servers: 4 }, resetQuotas: ['workstations'] },
    });
    expect(parseQuotaCells({ workstations: 'profiles' })).toEqual({
      ok: false,
      problems: [{ item: 'workstations', reason: 'must be a whole number ≥ 0' }],
    });
  });
});
