/**
 * Text from outside (file names, customer names, batch labels, keys, errors from the API) as it
 * may be printed to a terminal: control characters (C0, DEL, C1 — ESC, BEL, CSI …) and the
 * bidirectional embedding, override and isolate marks are shown as escapes (`\x1b`, `\u202e`),
 * so a value can neither drive the terminal nor reorder what is shown around it. Everything
 * else — accents, other scripts, emoji — is printed as it is. (jsesc and util.inspect escape
 * all non-ASCII or quote the text; neither prints a name as a person reads it.)
 */
const UNSAFE = /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;
const UNSAFE_OR_NOT_NEWLINE = /(?!\n)[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

function escape(char: string): string {
  const code = char.codePointAt(0) ?? 0;
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One value, every unsafe character escaped (line breaks too: a value is one line). */
export function terminalSafe(value: unknown): string {
  return String(value).replace(UNSAFE, escape);
}

/** A message of several lines: its line breaks kept, everything else unsafe escaped. */
export function terminalSafeLines(value: unknown): string {
  return String(value).replace(UNSAFE_OR_NOT_NEWLINE, escape);
}

/** A template whose interpolated values are escaped: tty`batch ${id} (${label})`. */
export function tty(strings: TemplateStringsArray, ...values: unknown[]): string {
  return strings.reduce((out, text, i) => out + text + (i < values.length ? terminalSafe(values[i]) : ''), '');
}

/**
 * JSON for stdout: JSON.stringify already escapes C0 controls; DEL, C1 and the bidi marks
 * are escaped too (`\u009b`), which any JSON reader turns back into the same text.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
