import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { openProducer } from '../../src/app/producer.js';
import type { Producer } from '../../src/producers/producer.js';
import type { CustomerRequest } from '../../src/onboarding/customer-request.js';
import type { TestPipeline } from './pipeline.js';

/** CSV fixtures, temporary CSV files and a producer on the test pipeline. */

export const CSV_FIXTURES = resolve(import.meta.dirname, '../fixtures/csv');

export function csvFixture(name: string): string {
  return join(CSV_FIXTURES, name);
}

const tempDir = mkdtempSync(join(tmpdir(), 'acronis-onboard-csv-'));

/** Writes `content` (text or raw bytes) to a fresh file and returns its path. */
export function tempCsv(name: string, content: string | Uint8Array): string {
  const path = join(tempDir, name);
  writeFileSync(path, content);
  return path;
}

/** A CSV of the given customers, header from the first one's fields (plus any extra). */
export function csvOf(customers: readonly CustomerRequest[], opts: { eol?: string; bom?: boolean } = {}): string {
  const columns = [...new Set(customers.flatMap((c) => Object.keys(c)))];
  const cell = (v: unknown) => {
    const text = v === undefined ? '' : String(v);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const eol = opts.eol ?? '\n';
  const lines = [
    columns.join(','),
    ...customers.map((c) => columns.map((k) => cell((c as Record<string, unknown>)[k])).join(',')),
  ];
  return `${opts.bom ? '\uFEFF' : ''}${lines.join(eol)}${eol}`;
}

export function openTestProducer(t: TestPipeline): Promise<Producer> {
  return openProducer(t.pipeline);
}
