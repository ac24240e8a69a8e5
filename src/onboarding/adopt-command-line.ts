/**
 * The command that adopts one tenant made elsewhere as one customer (docs/adopt.md), as a reason
 * hands it to the operator: ready to paste into a POSIX shell.
 */
export function adoptCommandLine(tenantId: string, externalId: string): string {
  return `acronis-onboard adopt --tenant ${shellWord(tenantId)} --external-id ${shellWord(externalId)}`;
}

/** A word as is when it is plain, else single-quoted (a quote inside closes, escapes and reopens). */
function shellWord(text: string): string {
  return /^[A-Za-z0-9._@:+=/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
