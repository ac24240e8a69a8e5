import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv } from '../../src/producers/csv-import.js';
import type { Producer } from '../../src/producers/producer.js';
import { openTestProducer, tempCsv } from '../helpers/csv.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * 10,000 rows into one batch, without workers (only the enqueueing is under test). Memory is
 * measured by `npm run bench:csv`, not asserted here; the file is read as a stream and the
 * rows go out 100 per enqueue call.
 */

const ROWS = 10_000;
let t: TestPipeline;
let producer: Producer;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'csv-large' });
  producer = await openTestProducer(t);
});
afterAll(async () => {
  await t?.close();
});

describe('a large CSV', () => {
  it(`queues ${ROWS} rows as one batch of ${ROWS} customers`, async () => {
    const lines = ['external_id,name,email,first_name,last_name'];
    for (let i = 1; i <= ROWS; i++)
      lines.push(`big-${i},Big Customer ${i},admin${i}@big-customer.example,Ada,Admin${i}`);
    const path = tempCsv('10k.csv', `${lines.join('\n')}\n`);

    let chunks = 0;
    const report = await importCsv({ producer, path, on: { planned: () => void chunks++ } });
    expect(report).toMatchObject({ rows: ROWS, goodRows: ROWS, badRowCount: 0 });
    expect(chunks).toBe(ROWS / 100);
    expect(report.batch).toMatchObject({ source: 'csv', label: '10k.csv', total: ROWS, queued: ROWS });
    expect(await t.pipeline.store.listBatches(10)).toHaveLength(1);
    expect(await t.pipeline.queue.getJobCounts('waiting', 'prioritized', 'delayed')).toMatchObject({
      prioritized: ROWS,
    });
    expect(await t.pipeline.store.getCustomer(`big-${ROWS}`)).toMatchObject({
      state: 'queued',
      batchId: report.batch!.id,
    });
  });
});
