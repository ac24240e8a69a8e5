/** `2026-12-01 10:22:31 UTC` from an ISO time; empty for none. */
export function shortTime(iso: string | undefined): string {
  return iso ? `${iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '')} UTC` : '';
}
