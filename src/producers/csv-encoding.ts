import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import { CsvFileError } from './csv-file-error.js';

/**
 * Passes the bytes of a CSV file through unchanged when they are UTF-8 text, and stops the
 * stream with a CsvFileError naming the line otherwise: a NUL byte (a binary file, an Excel
 * workbook, UTF-16 text) or a byte sequence UTF-8 does not allow (a file saved as
 * Windows-1252/Latin-1). csv-parse would otherwise turn such bytes into U+FFFD silently and
 * the names would reach the API mangled.
 */
export function utf8Guard(file: string): Transform {
  let carry: Buffer = Buffer.alloc(0);
  let linesBefore = 0;
  let first = true;
  const fail = (done: TransformCallback, problem: 'not-text' | 'not-utf8', message: string, line: number) =>
    done(new CsvFileError(problem, file, message, line));

  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
      const start = first ? notTextAtStart(bytes) : undefined;
      first = false;
      if (start) return fail(done, 'not-text', start, 1);
      const nul = bytes.indexOf(0);
      if (nul >= 0) {
        return fail(
          done,
          'not-text',
          `is not a CSV text file: line ${lineAt(bytes, nul)} holds a NUL byte (a binary file, or UTF-16 text?)`,
          lineAt(bytes, nul),
        );
      }
      const complete = completeLength(bytes);
      const body = bytes.subarray(0, complete);
      if (!isUtf8(body)) {
        const at = firstInvalidByte(body);
        const line = lineAt(body, at);
        const hex = `0x${(body[at] ?? 0).toString(16).toUpperCase().padStart(2, '0')}`;
        return fail(
          done,
          'not-utf8',
          `is not UTF-8 text: line ${line} holds byte ${hex}, which UTF-8 does not allow there (saved as Windows-1252 or Latin-1?); save it as "CSV UTF-8"`,
          line,
        );
      }
      linesBefore += countNewlines(body);
      carry = Buffer.from(bytes.subarray(complete));
      done(null, body);
    },
    flush(done) {
      if (carry.length > 0)
        return fail(
          done,
          'not-utf8',
          `is not UTF-8 text: it ends in the middle of a character (line ${linesBefore + 1})`,
          linesBefore + 1,
        );
      done();
    },
  });

  function lineAt(bytes: Buffer, offset: number): number {
    return linesBefore + countNewlines(bytes.subarray(0, offset)) + 1;
  }
}

/** What the first bytes say a file that is not CSV text is, if they do. */
function notTextAtStart(bytes: Buffer): string | undefined {
  if (bytes.subarray(0, 4).equals(Buffer.from('PK\x03\x04', 'latin1'))) {
    return 'is not a CSV text file: it looks like an Excel workbook (.xlsx); save it as "CSV UTF-8"';
  }
  if ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff)) {
    return 'is UTF-16 text; save it as "CSV UTF-8"';
  }
  return undefined;
}

function countNewlines(bytes: Buffer): number {
  let count = 0;
  for (let at = bytes.indexOf(0x0a); at >= 0; at = bytes.indexOf(0x0a, at + 1)) count++;
  return count;
}

/** The length of `bytes` without a multi-byte character cut off at its end (it continues in the next chunk). */
function completeLength(bytes: Buffer): number {
  let lead = bytes.length - 1;
  while (lead >= 0 && bytes.length - lead < 4 && ((bytes[lead] as number) & 0xc0) === 0x80) lead--;
  if (lead < 0) return bytes.length;
  const byte = bytes[lead] as number;
  const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
  return bytes.length - lead < needed ? lead : bytes.length;
}

/** Where the first invalid sequence starts (only called once `isUtf8` said there is one). */
function firstInvalidByte(bytes: Buffer): number {
  for (let at = 0; at < bytes.length;) {
    const byte = bytes[at] as number;
    const length =
      byte < 0x80
        ? 1
        : byte >= 0xc2 && byte <= 0xdf
          ? 2
          : byte >= 0xe0 && byte <= 0xef
            ? 3
            : byte >= 0xf0 && byte <= 0xf4
              ? 4
              : 0;
    if (length === 0 || (length > 1 && !isUtf8(bytes.subarray(at, at + length)))) return at;
    at += length;
  }
  return bytes.length;
}
