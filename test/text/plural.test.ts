import { describe, expect, it } from 'vitest';
import { plural } from '../../src/text/plural.js';

describe('plural', () => {
  it('says one thing in the singular and every other count in the plural', () => {
    expect(plural(1, 'row')).toBe('1 row');
    expect(plural(0, 'row')).toBe('0 rows');
    expect(plural(346, 'customer')).toBe('346 customers');
  });

  it('takes an irregular plural and groups thousands', () => {
    expect(plural(2, 'e-mail address', 'e-mail addresses')).toBe('2 e-mail addresses');
    expect(plural(10000, 'customer')).toBe('10,000 customers');
  });
});
