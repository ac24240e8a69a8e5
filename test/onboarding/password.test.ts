import { describe, expect, it } from 'vitest';
import { generatePassword } from '../../src/onboarding/password.js';

const SAFE = /^[A-Za-z0-9\-_.!@#%+=]+$/;

describe('generatePassword', () => {
  const samples = Array.from({ length: 1000 }, () => generatePassword());

  it('is 20 characters by default, or the length asked for', () => {
    expect(samples.every((p) => p.length === 20)).toBe(true);
    expect(generatePassword(32)).toHaveLength(32);
  });

  it('always holds a lowercase letter, an uppercase letter, a digit and a symbol, and nothing a CSV cell or shell would need quoted', () => {
    for (const p of samples) {
      expect(p).toMatch(/[a-z]/);
      expect(p).toMatch(/[A-Z]/);
      expect(p).toMatch(/[0-9]/);
      expect(p).toMatch(/[-_.!@#%+=]/);
      expect(p).toMatch(SAFE);
    }
  });

  it('never repeats: 1000 samples are all distinct', () => {
    expect(new Set(samples).size).toBe(1000);
  });

  it('the guaranteed classes land anywhere, not always in front', () => {
    const symbolAt = new Set(samples.map((p) => p.search(/[-_.!@#%+=]/)));
    expect(symbolAt.size).toBeGreaterThan(5);
  });

  it('never starts with = + - @ (a spreadsheet would read the cell as a formula), nor any other symbol', () => {
    const many = [...samples, ...Array.from({ length: 4000 }, () => generatePassword(12))];
    expect(many.filter((p) => /^[=+\-@]/.test(p))).toEqual([]);
    expect(many.every((p) => /^[A-Za-z0-9]/.test(p))).toBe(true);
  });

  it('refuses a length too short to be strong', () => {
    expect(() => generatePassword(8)).toThrow(RangeError);
    expect(() => generatePassword(12.5)).toThrow(RangeError);
  });
});
