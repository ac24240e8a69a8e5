/**
 * A JSON value as the dotted paths the trigger and the mapping name (SourceRecord.fields):
 * `{ company: { name } }` → `company.name`; a list of objects → `line_items[].quantity`, an array
 * of each one's value. Kinds build their records with it, under a prefix per object read back
 * (`deal.`, `company.`).
 */
export function flattenFields(
  value: unknown,
  prefix = '',
  into: Record<string, unknown> = {},
): Record<string, unknown> {
  if (Array.isArray(value)) {
    if (prefix) into[prefix] = value;
    const objects = value.filter((v): v is Record<string, unknown> => isObject(v));
    const columns = new Set(objects.flatMap((o) => Object.keys(o)));
    for (const column of columns) {
      const path = `${prefix}[].${column}`;
      const values = objects.map((o) => o[column]);
      if (values.some(isObject)) values.forEach((v) => flattenFields(v, path, into));
      into[path] = values;
    }
    return into;
  }
  if (!isObject(value)) {
    if (prefix) into[prefix] = value;
    return into;
  }
  for (const [key, child] of Object.entries(value)) flattenFields(child, prefix ? `${prefix}.${key}` : key, into);
  return into;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
