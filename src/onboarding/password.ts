import { randomInt } from 'node:crypto';

// Letters and digits a person can read back unambiguously (no l/1, O/0, I).
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
// Symbols that need no quoting in a CSV cell and survive an e-mail; no quotes, `$`, `\`, `,` or `;`.
const SYMBOLS = '-_.!@#%+=';
const ALL = LOWER + UPPER + DIGITS + SYMBOLS;

export const MIN_GENERATED_PASSWORD_LENGTH = 12;

/**
 * A strong initial password for `password` activation: at least one lowercase, uppercase,
 * digit and symbol, every character from the CSPRNG, shuffled, never starting with a symbol.
 */
export function generatePassword(length = 20): string {
  if (!Number.isInteger(length) || length < MIN_GENERATED_PASSWORD_LENGTH) {
    throw new RangeError(
      `a generated password has a whole number of characters, at least ${MIN_GENERATED_PASSWORD_LENGTH}; got ${length}`,
    );
  }
  const pick = (set: string) => set[randomInt(set.length)] as string;
  const chars = [pick(LOWER), pick(UPPER), pick(DIGITS), pick(SYMBOLS)];
  while (chars.length < length) chars.push(pick(ALL));
  // Fisher–Yates, so the guaranteed classes are not always in front.
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
  }
  // A cell starting with = + - @ is a formula to a spreadsheet opening `results`: a letter or
  // digit goes first (the first one in the shuffled order).
  const first = chars.findIndex((c) => !SYMBOLS.includes(c));
  [chars[0], chars[first]] = [chars[first] as string, chars[0] as string];
  return chars.join('');
}
