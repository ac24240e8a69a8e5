import type { OfferingItem, OfferingItemChange } from '../acronis/offering-items.js';
import type { Difference } from './drift.js';
import type { Expectation } from './expected.js';

const keyOf = (item: { name: string; infra_id?: string | undefined }) => `${item.name}@${item.infra_id ?? ''}`;
const limitText = (value: number | null | undefined) =>
  value === null || value === undefined ? 'unlimited' : String(value);

/**
 * The tenant's items against the plan: the edition, the one storage, each item on or off, each
 * quota. An item of another edition or on another storage is told once, as that, not again as an
 * item the profile leaves out.
 */
export function compareItems(expected: Expectation, items: readonly OfferingItem[]): Difference[] {
  if (expected.planProblem) return [];
  const enabled = items.filter((i) => i.status === 1);
  const out: Difference[] = [...compareEdition(expected, enabled), ...compareStorage(expected, enabled)];
  const byKey = new Map(enabled.map((i) => [keyOf(i), i]));
  const wanted = new Set(expected.items.map(keyOf));
  for (const item of expected.items) {
    const actual = byKey.get(keyOf(item));
    if (!actual) {
      if (item.infra_id === undefined)
        out.push(itemDiff(item.name, 'on', 'off', `${item.name} is off; the profile enables it`));
      continue;
    }
    const quota = quotaDifference(item, actual);
    if (quota) out.push(quota);
  }
  for (const item of enabled) {
    const otherEdition = item.edition !== null && item.edition !== expected.edition;
    if (wanted.has(keyOf(item)) || item.type === 'infra' || otherEdition) continue;
    out.push(itemDiff(item.name, 'off', 'on', `${item.name} is on; the profile leaves it out`));
  }
  return out;
}

function itemDiff(name: string, expected: string, actual: string, text: string): Difference {
  return { kind: 'offering-items', field: `item:${name}`, expected, actual, text };
}

function quotaDifference(item: OfferingItemChange, actual: OfferingItem): Difference | undefined {
  const want = item.quota ?? { value: null, overage: null };
  const have = actual.quota ?? { value: null, overage: null };
  if (want.value === have.value && (want.value === null || want.overage === have.overage)) return undefined;
  const expected = `${limitText(want.value)}${want.value === null ? '' : ` (overage ${limitText(want.overage)})`}`;
  const got = `${limitText(have.value)}${have.value === null ? '' : ` (overage ${limitText(have.overage)})`}`;
  return {
    kind: 'quota',
    field: `quota:${item.name}`,
    expected,
    actual: got,
    text: `${item.name} quota is ${got}; the profile and the customer's own quotas say ${expected}`,
  };
}

function compareEdition(expected: Expectation, enabled: readonly OfferingItem[]): Difference[] {
  const editions = [...new Set(enabled.map((i) => i.edition).filter((e): e is string => e !== null))].sort();
  if (editions.length === 0 || (editions.length === 1 && editions[0] === expected.edition)) return [];
  return [
    {
      kind: 'edition',
      field: 'edition',
      expected: expected.edition,
      actual: editions.join(' '),
      text: `the tenant's items are of edition ${editions.join(', ')}; the customer's is ${expected.edition}`,
    },
  ];
}

function compareStorage(expected: Expectation, enabled: readonly OfferingItem[]): Difference[] {
  const infras = [...new Set(enabled.filter((i) => i.type === 'infra' && i.infra_id).map((i) => i.infra_id as string))];
  const want = expected.storageInfraId;
  if (want === undefined || (infras.length === 1 && infras[0] === want)) return [];
  const actual = infras.length === 0 ? 'none' : infras.join(' ');
  const text =
    infras.length === 0
      ? `no storage is enabled; the profile's is infra ${want}`
      : `storage is on infra ${infras.join(', ')}; the profile's one storage is infra ${want}`;
  return [{ kind: 'storage', field: 'storage', expected: want, actual, text }];
}
