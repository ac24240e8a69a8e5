import { z } from 'zod';
import { customerRequestSchema, type FieldProblem } from '../onboarding/customer-request.js';
import type { SourceRecord } from './kind.js';

/**
 * From a source's record to a customer request (docs/sources.md "mapping"): each customer field
 * is a dotted path of the record (`"company.name"`, or `{ "from": "company.name" }`) or a
 * constant (`{ "value": "de" }`). Quotas come from paths or constants per offering item, or from
 * line items: each line item whose name the file maps to an offering item adds its quantity. The
 * result is judged afterwards like a CSV row: mapping only moves values.
 */

/** Every customer field but the password (never in a source's record) and quotas (mapped apart). */
export type MappedField = Exclude<keyof typeof customerRequestSchema.shape, 'password' | 'quotas'>;
export const CUSTOMER_MAPPED_FIELDS = Object.keys(customerRequestSchema.shape).filter(
  (f) => f !== 'password' && f !== 'quotas',
) as MappedField[];

const path = z.string({ error: 'must be a field path or {"value": …}' }).trim().min(1, 'must not be empty');
const fieldSource = z.union(
  [path, z.strictObject({ from: path }), z.strictObject({ value: z.union([z.string(), z.number(), z.boolean()]) })],
  { error: 'must be a field path, {"from": path} or {"value": constant}' },
);
type FieldSource = z.infer<typeof fieldSource>;

const lineItemQuotasSchema = z.strictObject({
  /** The line items' names (or SKUs), an array path such as `line_items[].sku`. */
  name: path,
  /** Their quantities, the same array's `line_items[].quantity`. */
  quantity: path,
  /** Line item name → offering item it prepays, e.g. `{ "Cyber Protect workstation": "pw_base_workstations" }`. */
  items: z.record(z.string().min(1), z.string().trim().min(1, 'must be an offering item name')),
});

export const mappingSchema = z.strictObject({
  ...(Object.fromEntries(CUSTOMER_MAPPED_FIELDS.map((f) => [f, fieldSource.optional()])) as Record<
    MappedField,
    z.ZodOptional<typeof fieldSource>
  >),
  quotas: z.record(z.string().trim().min(1), fieldSource).optional(),
  line_item_quotas: lineItemQuotasSchema.optional(),
});
export type Mapping = z.infer<typeof mappingSchema>;

export interface MappedCustomer {
  /** What parseCustomerRequest judges: values as the record holds them. */
  candidate: Record<string, unknown>;
  /** Where each customer field came from, for problems ("email (from contact.email)"). */
  origins: Record<string, string>;
}

/** A mapped field's value and the record path it came from. */
export function read(source: FieldSource, record: SourceRecord): { value: unknown; origin: string } {
  if (typeof source === 'string') return { value: record.fields[source], origin: source };
  if ('from' in source) return { value: record.fields[source.from], origin: source.from };
  return { value: source.value, origin: 'a constant' };
}

/** Text fields take numbers as text (a phone or an id stored as a number). */
function asText(value: unknown): unknown {
  return typeof value === 'number' || typeof value === 'boolean' ? String(value) : value;
}

/**
 * The customer the record maps to. Its key is `<source>:<object id>` unless the mapping gives
 * `external_id`: the same object seen twice is the same customer.
 */
export function mapCustomer(
  mapping: Mapping,
  record: SourceRecord,
  key: { source: string; objectId: string },
): MappedCustomer {
  const candidate: Record<string, unknown> = {};
  const origins: Record<string, string> = {};
  for (const field of CUSTOMER_MAPPED_FIELDS) {
    const source = mapping[field];
    if (source === undefined) continue;
    const { value, origin } = read(source, record);
    origins[field] = origin;
    if (value !== undefined && value !== null) candidate[field] = asText(value);
  }
  candidate.external_id ??= `${key.source}:${key.objectId}`;
  const quotas = mapQuotas(mapping, record, origins);
  if (Object.keys(quotas).length > 0) candidate.quotas = quotas;
  return { candidate, origins };
}

function mapQuotas(mapping: Mapping, record: SourceRecord, origins: Record<string, string>): Record<string, unknown> {
  const quotas: Record<string, unknown> = {};
  for (const [item, source] of Object.entries(mapping.quotas ?? {})) {
    const { value, origin } = read(source, record);
    origins[`quotas.${item}`] = origin;
    if (value !== undefined && value !== null && value !== '') quotas[item] = value;
  }
  const lines = mapping.line_item_quotas;
  if (!lines) return quotas;
  const names = [record.fields[lines.name]].flat();
  const quantities = [record.fields[lines.quantity]].flat();
  names.forEach((name, i) => {
    const item = lines.items[String(name)];
    if (item === undefined) return;
    origins[`quotas.${item}`] = lines.quantity;
    const quantity = toCount(quantities[i]);
    const before = quotas[item];
    // A quantity that is no whole number is kept as it is, so the judgement names it.
    quotas[item] = quantity === undefined ? quantities[i] : typeof before === 'number' ? before + quantity : quantity;
  });
  return quotas;
}

/** Vendors send quantities as numbers or as text ("3", "3.0"). */
function toCount(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** A judged field's problem, with the record's path it came from. */
export function withOrigins(problems: readonly FieldProblem[], origins: Record<string, string>): FieldProblem[] {
  return problems.map((p) => {
    const origin = origins[p.field];
    return origin ? { field: p.field, reason: `${p.reason} (from ${origin})` } : p;
  });
}
