import { describe, expect, it } from 'vitest';
import type { OfferingItem } from '../../src/acronis/offering-items.js';
import { parseCustomerRequest, problemsWithProfile } from '../../src/onboarding/customer-request.js';
import { OfferingPlanError, planOfferingItems } from '../../src/onboarding/offering-plan.js';
import { STANDARD_PROFILE, parseProfile } from '../../src/onboarding/profile.js';
import { readCustomerCsv, type CsvRowEvent } from '../../src/producers/csv-rows.js';
import { parseWebhookBody } from '../../src/producers/webhook-body.js';
import { tempCsv } from '../helpers/csv.js';

/** Per-customer quotas: a prepaid quantity becomes a hard quota of exactly that many (docs/profiles.md). */

const BACKUP = '6e6d758d-8e74-3ae3-ac84-50eb0dff12eb';
const EU = '11111111-2222-4333-8444-555555555555';
const item = (name: string, usage: string, extra: Partial<OfferingItem> = {}): OfferingItem => ({
  application_id: BACKUP,
  name,
  edition: 'pck_per_workload',
  usage_name: usage,
  tenant_id: '0b5c6d7e-1f2a-4b3c-8d4e-5f6a7b8c9d0e',
  status: 1,
  type: 'count',
  measurement_unit: 'quantity',
  ...extra,
});
const offer = [
  item('pw_base_workstations', 'workstations'),
  item('pw_base_servers', 'servers'),
  item('pw_base_vms', 'vms'),
  item('pw_base_storage', 'storage', { type: 'infra', measurement_unit: 'bytes', infra_id: EU }),
];
const customer = { name: 'Quota GmbH', email: 'it@quota.example' };

describe('per-customer quotas', () => {
  it('a prepaid quantity is a hard quota of exactly that many, over the profile quota; the others keep the profile', () => {
    const parsed = parseCustomerRequest({ ...customer, quotas: { pw_base_workstations: 12, servers: 3 } });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const changes = planOfferingItems({
      available: offer,
      profile: STANDARD_PROFILE,
      edition: 'pck_per_workload',
      customerQuotas: parsed.request.quotas ?? {},
    });
    const quota = (name: string) => changes.find((c) => c.name === name)?.quota;
    expect(quota('pw_base_workstations')).toEqual({ value: 12, overage: 0, version: 0 });
    expect(quota('pw_base_servers')).toEqual({ value: 3, overage: 0, version: 0 });
    expect(quota('pw_base_storage')).toBeUndefined();
  });

  it('without quotas of its own a customer gets the profile quota (workstations 50 + 5)', () => {
    const changes = planOfferingItems({ available: offer, profile: STANDARD_PROFILE, edition: 'pck_per_workload' });
    expect(changes.find((c) => c.name === 'pw_base_workstations')?.quota).toEqual({
      value: 50,
      overage: 5,
      version: 0,
    });
  });

  it('a quota for an item the profile does not enable is a field problem, before and at planning', () => {
    const parsed = parseCustomerRequest({ ...customer, quotas: { pw_base_vms: 2 } });
    if (!parsed.ok) throw new Error('expected a valid request');
    expect(problemsWithProfile(parsed.request, STANDARD_PROFILE)).toEqual([
      {
        field: 'quotas.pw_base_vms',
        reason: 'is not an item of the profile (its items: workstations, servers, storage)',
      },
    ]);
    const plan = () =>
      planOfferingItems({
        available: offer,
        profile: STANDARD_PROFILE,
        edition: 'pck_per_workload',
        customerQuotas: { pw_base_vms: 2 },
      });
    expect(plan).toThrow(OfferingPlanError);
    expect(plan).toThrow(/quotas\.pw_base_vms: names no item the profile enables/);
  });

  it('a template profile takes no per-customer quota', () => {
    const template = parseProfile(
      { name: 't', editions: ['pck_per_workload'], template_tenant_id: '22222222-3333-4444-8555-666666666666' },
      'test',
    );
    const parsed = parseCustomerRequest({ ...customer, quotas: { workstations: 1 } });
    if (!parsed.ok) throw new Error('expected a valid request');
    expect(problemsWithProfile(parsed.request, template)[0]?.field).toBe('quotas.workstations');
  });

  it('refuses what is not a whole number ≥ 0 or not an item name, naming the field', () => {
    const bad = parseCustomerRequest({ ...customer, quotas: { workstations: -1, 'Bad Name': 2, servers: 1.5 } });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    const fields = bad.problems.map((p) => p.field).sort();
    expect(fields).toEqual(['quotas.Bad Name', 'quotas.servers', 'quotas.workstations']);
    expect(parseCustomerRequest({ ...customer, quotas: [3] }).ok).toBe(false);
  });

  it('the CSV takes them as `quota <item>` columns; an empty cell is no quota, a bad one a bad row naming it', async () => {
    const path = tempCsv(
      'quotas.csv',
      'name,email,Quota pw_base_workstations,quota servers\n' +
        'One,it@one.example,12,\n' +
        'Two,it@two.example,,4\n' +
        'Three,it@three.example,many,\n',
    );
    const events: CsvRowEvent[] = [];
    for await (const e of readCustomerCsv(path, { profile: STANDARD_PROFILE })) events.push(e);
    const goods = events.flatMap((e) => (e.kind === 'good' ? [e.request.quotas] : []));
    expect(goods).toEqual([{ pw_base_workstations: 12 }, { servers: 4 }]);
    const bad = events.find((e) => e.kind === 'bad');
    expect(bad).toMatchObject({ line: 4, problems: [{ field: 'quotas.pw_base_workstations' }] });
  });

  it('the webhook body takes `quotas` and refuses one the profile cannot give', () => {
    const ok = parseWebhookBody({ customers: [{ ...customer, quotas: { workstations: 5 } }] }, STANDARD_PROFILE);
    expect(ok.ok && ok.body.customers[0]?.quotas).toEqual({ workstations: 5 });
    const refused = parseWebhookBody({ customers: [{ ...customer, quotas: { vms: 5 } }] }, STANDARD_PROFILE);
    expect(refused.ok).toBe(false);
  });
});
