/**
 * The real API mixes timestamp formats (docs/acronis-api.md §9.5): `2016-06-22T18:25:16` (no
 * zone), `2019-07-09T06:03:00.502053+00:00` and `2022-04-02T18:46:45Z`. The simulator emits
 * each of them somewhere so that a client which parses only one kind fails its tests.
 */

/** `2019-07-09T06:03:00.502000+00:00` (tenants, users). */
export function withOffset(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 23)}000+00:00`;
}

/** `2016-06-22T18:25:16` (offering items, pricing, usages). */
export function withoutZone(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** `2022-04-02T18:46:45Z` (registration tokens). */
export function zulu(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

/** `2016-02-28T16:41:41.090Z` (list `timestamp`s). */
export function zuluMillis(ms: number): string {
  return new Date(ms).toISOString();
}
