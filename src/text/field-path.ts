/** A zod issue's path as a person reads it in a file: `partners[1].name`; the root is `(file)`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(file)';
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}
