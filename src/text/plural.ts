/**
 * A count said in words, the same way in every command and page: "1 row", "346 rows",
 * "1 customer", "0 customers". One place, so "1 rows" cannot come back in one message only.
 */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`;
}
