import { describe, expect, it } from 'vitest';
import { parseAcronisTimestamp } from '../../src/acronis/timestamps.js';
import { parseRetryAfter } from '../../src/acronis/errors.js';

describe('the mixed timestamp formats the API sends (docs/acronis-api.md §9.5)', () => {
  it.each([
    ['2016-06-22T18:25:16', '2016-06-22T18:25:16.000Z'],
    ['2019-07-09T06:03:00.502053+00:00', '2019-07-09T06:03:00.502Z'],
    ['2019-07-09T08:03:00.502053+02:00', '2019-07-09T06:03:00.502Z'],
    ['2022-04-02T18:46:45Z', '2022-04-02T18:46:45.000Z'],
    ['2017-05-08', '2017-05-08T00:00:00.000Z'],
  ])('%s → %s', (input, iso) => {
    expect(parseAcronisTimestamp(input)?.toISOString()).toBe(iso);
  });

  it('refuses what is not a timestamp', () => {
    expect(parseAcronisTimestamp('yesterday')).toBeUndefined();
  });
});

describe('Retry-After', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});
