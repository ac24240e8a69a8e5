import { describe, expect, it } from 'vitest';
import {
  offeringItemChangeSchema,
  type OfferingItem,
  type OfferingItemChange,
} from '../../src/acronis/offering-items.js';
import {
  OfferingPlanError,
  checkProfileAgainstOffer,
  planFromTemplate,
  planOfferingItems,
} from '../../src/onboarding/offering-plan.js';
import { STANDARD_PROFILE, parseProfile, type Profile } from '../../src/onboarding/profile.js';

// The shape of src/simulator/catalogue.ts, as available_for_child answers it: every item
// enabled on the partner, no quota.
const BACKUP = '6e6d758d-8e74-3ae3-ac84-50eb0dff12eb';
const NOTARY = 'a9c5ff5d-2e1f-3c0c-8d64-6d6e0a4f3d9b';
const PARTNER = '0b5c6d7e-1f2a-4b3c-8d4e-5f6a7b8c9d0e';
const EU = '11111111-2222-4333-8444-555555555555';
const US = '66666666-7777-4888-8999-aaaaaaaaaaaa';

function item(
  name: string,
  edition: string | null,
  usageName: string,
  extra: Partial<OfferingItem> = {},
): OfferingItem {
  return {
    application_id: BACKUP,
    name,
    edition,
    usage_name: usageName,
    tenant_id: PARTNER,
    status: 1,
    type: 'count',
    measurement_unit: 'quantity',
    ...extra,
  };
}

function offer(infraIds: string[] = [EU, US]): OfferingItem[] {
  const items: OfferingItem[] = [];
  for (const [edition, prefix] of [
    ['pck_per_workload', 'pw_base_'],
    ['pck_per_gigabyte', 'pg_base_'],
  ] as const) {
    for (const workload of ['workstations', 'servers', 'vms', 'mobiles', 'm365_seats', 'm365_mailboxes']) {
      items.push(item(`${prefix}${workload}`, edition, workload));
    }
    for (const infraId of infraIds) {
      items.push(
        item(`${prefix}storage`, edition, 'storage', { type: 'infra', measurement_unit: 'bytes', infra_id: infraId }),
      );
    }
  }
  items.push(item('local_storage', null, 'local_storage', { type: 'feature', measurement_unit: 'n/a' }));
  items.push(item('compute_points', null, 'compute_points', { measurement_unit: 'seconds' }));
  items.push(item('notarizations', null, 'notarizations', { application_id: NOTARY }));
  return items;
}

const profileWith = (patch: Record<string, unknown>): Profile =>
  parseProfile({ ...structuredClone(STANDARD_PROFILE), ...patch }, 'test');
const names = (changes: OfferingItemChange[]) => changes.map((c) => c.name).sort();
const storageOf = (changes: OfferingItemChange[]) => changes.filter((c) => c.infra_id !== undefined);

function planError(fn: () => unknown): OfferingPlanError {
  try {
    fn();
  } catch (err) {
    if (err instanceof OfferingPlanError) return err;
    throw err;
  }
  throw new Error('expected an OfferingPlanError');
}

describe('planOfferingItems', () => {
  it('the standard profile enables workstations, servers and exactly one storage, on the first infra; workstations 50/5', () => {
    const changes = planOfferingItems({ available: offer(), profile: STANDARD_PROFILE, edition: 'pck_per_workload' });
    expect(names(changes)).toEqual(['pw_base_servers', 'pw_base_storage', 'pw_base_workstations']);
    expect(storageOf(changes)).toEqual([{ application_id: BACKUP, name: 'pw_base_storage', status: 1, infra_id: EU }]);
    expect(changes.find((c) => c.name === 'pw_base_workstations')?.quota).toEqual({
      value: 50,
      overage: 5,
      version: 0,
    });
    expect(changes.find((c) => c.name === 'pw_base_servers')?.quota).toBeUndefined();
  });

  it('every entry is a valid PUT entry: only the keys the API takes, enabled, new quotas (safe to repeat)', () => {
    const changes = planOfferingItems({ available: offer(), profile: STANDARD_PROFILE, edition: 'pck_per_workload' });
    for (const change of changes) {
      expect(offeringItemChangeSchema.parse(change)).toEqual(change);
      expect(change.status).toBe(1);
      expect(change.quota?.version ?? 0).toBe(0);
    }
  });

  it('include given as usage names works for any edition: a per-gigabyte customer gets the pg_base_ items', () => {
    const changes = planOfferingItems({ available: offer(), profile: STANDARD_PROFILE, edition: 'pck_per_gigabyte' });
    expect(names(changes)).toEqual(['pg_base_servers', 'pg_base_storage', 'pg_base_workstations']);
    expect(changes.find((c) => c.name === 'pg_base_workstations')?.quota).toEqual({
      value: 50,
      overage: 5,
      version: 0,
    });
  });

  it('without include: every item of the edition and the editionless ones, none of another edition, still one storage', () => {
    const profile = profileWith({ offering_items: {} });
    const changes = planOfferingItems({ available: offer(), profile, edition: 'pck_per_workload' });
    expect(names(changes)).toEqual([
      'compute_points',
      'local_storage',
      'notarizations',
      'pw_base_m365_mailboxes',
      'pw_base_m365_seats',
      'pw_base_mobiles',
      'pw_base_servers',
      'pw_base_storage',
      'pw_base_vms',
      'pw_base_workstations',
    ]);
    expect(storageOf(changes).map((c) => c.infra_id)).toEqual([EU]);
  });

  it('the storage is the infra the profile names', () => {
    const changes = planOfferingItems({
      available: offer(),
      profile: profileWith({ storage: { infra_id: US } }),
      edition: 'pck_per_workload',
    });
    expect(storageOf(changes)).toEqual([{ application_id: BACKUP, name: 'pw_base_storage', status: 1, infra_id: US }]);
  });

  it('storage is enabled even when include does not mention it: a customer cannot back up without one', () => {
    const profile = profileWith({ offering_items: { include: ['workstations'] } });
    const changes = planOfferingItems({ available: offer(), profile, edition: 'pck_per_workload' });
    expect(names(changes)).toEqual(['pw_base_storage', 'pw_base_workstations']);
    expect(storageOf(changes)).toHaveLength(1);
  });

  it('a storage infra the partner does not offer names storage.infra_id and what is offered', () => {
    const missing = '99999999-8888-4777-8666-555555555555';
    const err = planError(() =>
      planOfferingItems({
        available: offer(),
        profile: profileWith({ storage: { infra_id: missing } }),
        edition: 'pck_per_workload',
      }),
    );
    expect(err.field).toBe('storage.infra_id');
    expect(err.message).toContain(missing);
    expect(err.message).toContain(EU);
  });

  it('no storage offered at all is an error naming storage and the edition', () => {
    const err = planError(() =>
      planOfferingItems({ available: offer([]), profile: STANDARD_PROFILE, edition: 'pck_per_workload' }),
    );
    expect(err.field).toBe('storage');
    expect(err.message).toContain('pck_per_workload');
  });

  it('an include entry that matches nothing names the field, the entry and the edition', () => {
    const profile = profileWith({ offering_items: { include: ['workstations', 'teleporters'] } });
    const err = planError(() => planOfferingItems({ available: offer(), profile, edition: 'pck_per_gigabyte' }));
    expect(err.field).toBe('offering_items.include');
    expect(err.message).toBe(
      'offering_items.include: "teleporters" matches no offering item offered for edition pck_per_gigabyte',
    );
  });

  it('an item name of another edition matches nothing in this one', () => {
    const profile = profileWith({ offering_items: { include: ['pw_base_workstations', 'storage'] } });
    const err = planError(() => planOfferingItems({ available: offer(), profile, edition: 'pck_per_gigabyte' }));
    expect(err.message).toContain('"pw_base_workstations"');
  });

  it('an include entry offered only on another infra than the one storage names the entry and the infra', () => {
    const dr = item('pw_base_dr_storage', 'pck_per_workload', 'dr_storage', {
      type: 'infra',
      measurement_unit: 'bytes',
      infra_id: US,
    });
    const profile = profileWith({ offering_items: { include: ['workstations', 'storage', 'dr_storage'] } });
    const err = planError(() =>
      planOfferingItems({ available: [...offer(), dr], profile, edition: 'pck_per_workload' }),
    );
    expect(err.field).toBe('offering_items.include');
    expect(err.message).toContain('"dr_storage"');
    expect(err.message).toContain(US);
    // With that infra as the storage, both are enabled there and nothing on the other.
    const onUs = planOfferingItems({
      available: [...offer(), dr],
      profile: { ...profile, storage: { infra_id: US } },
      edition: 'pck_per_workload',
    });
    expect(storageOf(onUs).map((c) => `${c.name}@${c.infra_id}`)).toEqual([
      `pw_base_storage@${US}`,
      `pw_base_dr_storage@${US}`,
    ]);
  });

  it('a quota keyed by the full name wins over one keyed by the usage name; an unlimited quota has no overage', () => {
    const profile = profileWith({
      offering_items: {
        quotas: {
          workstations: { value: 50, overage: 5 },
          pw_base_workstations: { value: 7, overage: 1 },
          storage: { value: null },
        },
      },
    });
    const changes = planOfferingItems({ available: offer(), profile, edition: 'pck_per_workload' });
    expect(changes.find((c) => c.name === 'pw_base_workstations')?.quota).toEqual({ value: 7, overage: 1, version: 0 });
    expect(storageOf(changes)[0]?.quota).toEqual({ value: null, overage: null, version: 0 });
  });

  it('a quota for an item the edition does not offer names the quota key', () => {
    const profile = profileWith({ offering_items: { quotas: { teleporters: { value: 1 } } } });
    const err = planError(() => planOfferingItems({ available: offer(), profile, edition: 'pck_per_workload' }));
    expect(err.field).toBe('offering_items.quotas.teleporters');
  });

  it('one entry per item even when the partner lists one twice', () => {
    const available = [...offer(), item('pw_base_servers', 'pck_per_workload', 'servers')];
    const changes = planOfferingItems({ available, profile: STANDARD_PROFILE, edition: 'pck_per_workload' });
    expect(changes.filter((c) => c.name === 'pw_base_servers')).toHaveLength(1);
  });
});

describe('planFromTemplate', () => {
  const TEMPLATE = '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f';
  const of = (extra: Partial<OfferingItem>) => ({ tenant_id: TEMPLATE, ...extra });
  const templateItems: OfferingItem[] = [
    item(
      'pw_base_workstations',
      'pck_per_workload',
      'workstations',
      of({ quota: { value: 20, overage: 2, version: 1_700_000_000_123 } }),
    ),
    item('pw_base_vms', 'pck_per_workload', 'vms', of({ quota: { value: null, overage: null, version: 0 } })),
    item('pw_base_servers', 'pck_per_workload', 'servers', of({ status: 0 })),
    item(
      'pw_base_storage',
      'pck_per_workload',
      'storage',
      of({
        type: 'infra',
        measurement_unit: 'bytes',
        infra_id: US,
        quota: { value: 5_000_000, overage: null, version: 1_700_000_000_456 },
      }),
    ),
    item(
      'pw_base_storage',
      'pck_per_workload',
      'storage',
      of({ type: 'infra', measurement_unit: 'bytes', infra_id: EU, status: 0 }),
    ),
    item('local_storage', null, 'local_storage', of({ type: 'feature', measurement_unit: 'n/a', locked: true })),
  ];

  it('copies the enabled items with their quotas (as new) and the one storage, nothing disabled', () => {
    const changes = planFromTemplate(templateItems, TEMPLATE);
    expect(changes).toEqual([
      { application_id: BACKUP, name: 'pw_base_workstations', status: 1, quota: { value: 20, overage: 2, version: 0 } },
      { application_id: BACKUP, name: 'pw_base_vms', status: 1, quota: { value: null, overage: null, version: 0 } },
      {
        application_id: BACKUP,
        name: 'pw_base_storage',
        status: 1,
        infra_id: US,
        quota: { value: 5_000_000, overage: null, version: 0 },
      },
      { application_id: BACKUP, name: 'local_storage', status: 1 },
    ]);
    for (const change of changes) expect(offeringItemChangeSchema.parse(change)).toEqual(change);
  });

  it('a template with nothing enabled names template_tenant_id and the tenant', () => {
    const err = planError(() =>
      planFromTemplate(
        templateItems.map((i) => ({ ...i, status: 0 as const })),
        TEMPLATE,
      ),
    );
    expect(err.field).toBe('template_tenant_id');
    expect(err.message).toContain(TEMPLATE);
  });

  it('a template without storage is refused: its copies could not back up', () => {
    const err = planError(() =>
      planFromTemplate(
        templateItems.filter((i) => i.type !== 'infra'),
        TEMPLATE,
      ),
    );
    expect(err.field).toBe('template_tenant_id');
    expect(err.message).toContain('no storage');
  });
});

describe('checkProfileAgainstOffer', () => {
  const byEdition = (available: OfferingItem[]) => ({
    pck_per_workload: available.filter((i) => i.edition !== 'pck_per_gigabyte'),
    pck_per_gigabyte: available.filter((i) => i.edition !== 'pck_per_workload'),
  });

  it('the standard profile fits the catalogue', () => {
    expect(checkProfileAgainstOffer(STANDARD_PROFILE, byEdition(offer()))).toEqual([]);
  });

  it('names, per edition, the include entries and quota keys that match nothing', () => {
    const profile = profileWith({
      editions: ['pck_per_workload', 'pck_per_gigabyte'],
      offering_items: { include: ['pw_base_workstations', 'storage'], quotas: { pw_base_workstations: { value: 5 } } },
    });
    expect(checkProfileAgainstOffer(profile, byEdition(offer()))).toEqual([
      {
        field: 'offering_items.include',
        reason: '"pw_base_workstations" matches no offering item offered for edition pck_per_gigabyte',
      },
      {
        field: 'offering_items.quotas.pw_base_workstations',
        reason: 'matches no offering item offered for edition pck_per_gigabyte',
      },
    ]);
  });

  it('names a storage infra that is not offered, and an edition the partner does not sell', () => {
    const missing = '99999999-8888-4777-8666-555555555555';
    const profile = profileWith({ editions: ['pck_per_workload', 'per_workload'], storage: { infra_id: missing } });
    const problems = checkProfileAgainstOffer(profile, byEdition(offer()));
    expect(problems.map((p) => p.field)).toEqual(['storage.infra_id', 'editions']);
    expect(problems[1]?.reason).toContain('per_workload');
  });

  it('names a missing storage first', () => {
    expect(checkProfileAgainstOffer(STANDARD_PROFILE, byEdition(offer([])))).toEqual([
      {
        field: 'storage',
        reason: 'the partner offers no storage for edition pck_per_workload; a customer cannot back up without one',
      },
      {
        field: 'offering_items.include',
        reason: '"storage" matches no offering item offered for edition pck_per_workload',
      },
    ]);
  });
});
