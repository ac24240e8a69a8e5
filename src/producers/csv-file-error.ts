/**
 * A CSV file that cannot be imported at all (as opposed to a bad row, which is reported and
 * skipped while the good rows beside it go ahead). Raised before anything is enqueued: the
 * import validates the whole file first. `import` exits with code 2 on it.
 */
export type CsvFileProblem =
  | 'unreadable'
  | 'not-text'
  | 'not-utf8'
  | 'no-header'
  | 'bad-header'
  | 'no-rows'
  | 'too-many-rows'
  | 'malformed'
  | 'changed';

export class CsvFileError extends Error {
  constructor(
    readonly problem: CsvFileProblem,
    readonly file: string,
    message: string,
    /** The line the problem is on or near, 1-based, when there is one. */
    readonly line?: number,
  ) {
    super(`${file}: ${message}`);
    this.name = 'CsvFileError';
  }
}
