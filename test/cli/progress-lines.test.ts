import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { plainView } from '../../src/cli/batch-progress.js';
import { batchRecordSchema, type BatchRecord } from '../../src/workers/onboarding-store.js';

/** `import --wait` without a terminal: plain progress lines, the last one the counts alone. */
function lines() {
  const written: string[] = [];
  const out = Object.assign(
    new Writable({
      write(chunk: Buffer, _enc, done) {
        written.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    }),
    { isTTY: false },
  );
  return { out, written };
}

const batch = (counts: Partial<BatchRecord>): BatchRecord => ({
  ...batchRecordSchema.parse({ id: 'b-1', source: 'csv', label: 'x.csv', createdAt: '2026-12-06T00:00:00Z', total: 5 }),
  ended: false,
  ...counts,
});

describe('plain progress lines', () => {
  it('end with the counts alone when a poll saw every customer settled before the batch was stamped ended', () => {
    const { out, written } = lines();
    const view = plainView(out, 0);
    view.update(batch({ queued: 5 }), 0, 0, false);
    // Every customer done, the batch's end not stamped yet: this line carries a rate and an ETA.
    view.update(batch({ done: 5 }), 0.9, 0, false);
    // The next poll sees the end with the same counts: nothing new to say while following …
    view.update(batch({ done: 5, ended: true }), 0.9, 0, false);
    // … and the last line is the counts without the rate.
    view.stop(batch({ done: 5, ended: true }));
    expect(written.at(-2)).toMatch(/^progress 5\/5 \(100%\) {2}done 5 .* {2}0\.9\/s {2}ETA /);
    expect(written.at(-1)).toBe('progress 5/5 (100%)  done 5  failed 0  running 0  queued 0');
  });
});
