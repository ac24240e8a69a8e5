import { Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, startCli } from '../helpers/cli.js';
import { tempCsv } from '../helpers/csv.js';
import { until } from '../helpers/wait.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';

/**
 * `import --wait` on an install with two data centres (docs/partners.md): it warns that no
 * worker runs only when no data centre's queue has one. A worker that takes nothing (no customer
 * of its data centre is imported) keeps the batch from ending, so each import is stopped with SIGINT.
 */
let t: TwoPartnerInstall;

beforeAll(async () => {
  t = await startTwoPartnerInstall({ label: 'partners-import-wait' });
});
afterAll(async () => {
  await t?.close();
});

async function importAndStop(tag: string): Promise<string> {
  const file = tempCsv(`${tag}.csv`, `external_id,name,email\n${tag}-1,${tag} Co 1,admin1@${tag}.example\n`);
  const importing = startCli(['import', file, '--wait'], cliEnv(t, t.secretEnv));
  // The first progress line comes after the worker count was read.
  await importing.waitFor(/^progress /m, 'the first progress line');
  importing.child.kill('SIGINT');
  expect((await importing.exit('the stop')).code).toBe(130);
  return importing.output();
}

describe('import --wait with two data centres', () => {
  it("counts a worker on any data centre's queue: none at all warns, one on the second data centre's does not", async () => {
    expect(await importAndStop('none')).toContain('warning: no worker is connected to the queue');

    // A connection for the worker's blocking reads, closed with the app.
    const connection = t.app.workerConnection();
    const second = t.app.queues[1]!;
    const worker = new Worker(second.name, async () => undefined, { connection, prefix: t.config.QUEUE_PREFIX });
    try {
      await until(async () => (await second.getWorkersCount()) > 0, "the second data centre's worker");
      expect(await t.app.queue.getWorkersCount()).toBe(0);
      expect(await importAndStop('some')).not.toContain('no worker is connected');
    } finally {
      await worker.close();
    }
  });
});
