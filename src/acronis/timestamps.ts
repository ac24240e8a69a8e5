import { z } from 'zod';

/**
 * The API mixes timestamp formats in one response (docs/acronis-api.md §9.5):
 * `2016-06-22T18:25:16` (no zone: UTC), `2019-07-09T06:03:00.502053+00:00`,
 * `2022-04-02T18:46:45Z`, and for pricing/report dates plain `2017-05-08`.
 * We normalise every one of them to an ISO-8601 UTC string so callers compare and
 * serialise one format.
 */
const ZONELESS = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;

export function parseAcronisTimestamp(value: string): Date | undefined {
  let text = value.trim();
  if (DATE_ONLY.test(text)) text = `${text}T00:00:00Z`;
  else if (ZONELESS.test(text)) text = `${text.replace(' ', 'T')}Z`;
  // JS Date keeps milliseconds; the API may send microseconds.
  text = text.replace(/(\.\d{3})\d+/, '$1');
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

export const acronisTimestamp = z.string().transform((value, ctx) => {
  const date = parseAcronisTimestamp(value);
  if (!date) {
    ctx.addIssue({ code: 'custom', message: `not a timestamp the API is known to send: ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return date.toISOString();
});

/** Unix seconds or milliseconds, as `expires_on` and quota versions come. */
export const nullableTimestamp = acronisTimestamp.nullable();
