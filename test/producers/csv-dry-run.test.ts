import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { followBatch } from '../../src/cli/batch-progress.js';
import { importCsv, type PlanEntry } from '../../src/producers/csv-import.js';
import type { Producer } from '../../src/producers/producer.js';
import { simulatorApi } from '../helpers/simulator.js';
import { csvOf, openTestProducer, tempCsv } from '../helpers/csv.js';
import { runCli } from '../helpers/cli.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * `import --dry-run`: the plan per row, from what the store knows; nothing written to Redis.
 * And what `--wait` does with a customer another batch is onboarding (both need a customer
 * left queued with no worker running).
 */

let t: TestPipeline;
let producer: Producer;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'csv-dry-run' });
  producer = await openTestProducer(t);
});
afterAll(async () => {
  await t?.close();
});

const onboarded = { name: 'Dry Onboarded', email: 'it@dry-onboarded.example', external_id: 'dry-1' };
const failing = { name: 'Dry Failing', email: 'it@dry-failing.example', external_id: 'dry-2', login: 'dry.taken' };
const queued = { name: 'Dry Queued', email: 'it@dry-queued.example', external_id: 'dry-3' };
const fresh = { name: 'Dry New', email: 'it@dry-new.example', external_id: 'dry-4' };

describe('a dry run', () => {
  it('says per row: already onboarded, retry (failed at a step), already queued, new — and enqueues nothing', async () => {
    // Earlier: one customer onboarded, one failed at create-user (its login belongs to someone else).
    const api = simulatorApi(t.sim);
    const other = await api.post('/tenants', {
      name: 'Someone Else',
      parent_id: t.sim.seed.partnerTenantId,
      kind: 'customer',
    });
    expect(
      (await api.post('/users', { tenant_id: other.body.id, login: 'dry.taken', contact: { email: 'x@else.example' } }))
        .status,
    ).toBe(200);
    const workers = await t.startWorkers();
    const earlier = await t.enqueue([onboarded, failing]);
    expect(await t.waitForBatch(earlier.batch.id)).toMatchObject({ done: 1, failed: 1 });
    await workers.close();
    // And one waiting in the queue, no worker running.
    await t.enqueue([queued]);

    const batchesBefore = await t.pipeline.store.listBatches(100);
    const countsBefore = await t.pipeline.queue.getJobCounts();
    const tenantsBefore = t.sim.state().tenants.length;

    const path = tempCsv('dry.csv', `${csvOf([onboarded, failing, queued, fresh])}Dry Bad,not-an-email,dry-5,\n`);
    const planned: PlanEntry[] = [];
    const report = await importCsv({
      producer,
      path,
      dryRun: true,
      on: { planned: (entries) => planned.push(...entries) },
    });

    expect(planned.map((p) => [p.line, p.key, p.outcome])).toEqual([
      [2, 'dry-1', 'already-onboarded'],
      [3, 'dry-2', 'retry'],
      [4, 'dry-3', 'already-queued'],
      [5, 'dry-4', 'new'],
    ]);
    expect(planned[1]).toMatchObject({ failedStep: 'create-user', error: expect.stringContaining('dry.taken') });
    expect(report).toMatchObject({
      dryRun: true,
      batch: null,
      badRowCount: 1,
      outcomes: { new: 1, retry: 1, 'already-onboarded': 1, 'already-queued': 1 },
    });
    expect(report.steps).toEqual([
      'create-tenant',
      'enable-offering-items',
      'create-user',
      'assign-roles',
      'activate-user',
      'create-agent-token',
      'finish',
    ]);

    // Nothing written: no batch, no job, no customer record, nothing at the API.
    expect(await t.pipeline.store.listBatches(100)).toEqual(batchesBefore);
    expect(await t.pipeline.queue.getJobCounts()).toEqual(countsBefore);
    expect(await t.pipeline.store.getCustomer('dry-4')).toBeUndefined();
    expect(await t.pipeline.store.getCustomer('dry-2')).toMatchObject({ state: 'failed', batchId: earlier.batch.id });
    expect(t.sim.state().tenants).toHaveLength(tenantsBefore);

    // The same through the command line.
    const cli = await runCli(t, ['import', path, '--dry-run']);
    expect(cli.code).toBe(1); // one bad row
    expect(cli.stdout).toContain('dry run: nothing is enqueued');
    expect(cli.stdout).toContain('each new customer runs: create-tenant → enable-offering-items → create-user');
    expect(cli.stdout).toMatch(/^line 2 {2}already onboarded {2}dry-1/m);
    expect(cli.stdout).toMatch(/^line 3 {2}retry \(failed at create-user: .*dry\.taken/m);
    expect(cli.stdout).toMatch(/^line 4 {2}already queued {2}dry-3/m);
    expect(cli.stdout).toMatch(/^line 5 {2}new {2}dry-4 {2}"Dry New"$/m);
    expect(cli.stdout).toContain('would enqueue: new 1  retry 1  already onboarded 1  already queued 1  bad rows 1');
    expect(cli.stderr).toContain('line 6, email: is not an e-mail address');
    expect(await t.pipeline.store.listBatches(100)).toEqual(batchesBefore);
    expect(await t.pipeline.queue.getJobCounts()).toEqual(countsBefore);
  });

  it('--wait follows a customer another batch was onboarding until it is done, beside its own batch', async () => {
    const elsewhere = { name: 'Wait Elsewhere', email: 'it@wait-elsewhere.example', external_id: 'wait-1' };
    const own = { name: 'Wait Own', email: 'it@wait-own.example', external_id: 'wait-2' };
    const earlier = await t.enqueue([elsewhere]); // no worker runs: it stays queued
    const report = await importCsv({ producer, path: tempCsv('follow.csv', csvOf([elsewhere, own])) });
    expect(report.alreadyQueued).toEqual(['wait-1']);
    expect(report.batch).toMatchObject({ total: 2, queued: 1, skipped: 1 });

    const lines: string[] = [];
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const following = followBatch({
      store: t.pipeline.store,
      batchId: report.batch!.id,
      alsoWaitFor: report.alreadyQueued,
      out,
      pollMs: 50,
      plainEveryMs: 0,
    });
    await t.startWorkers();
    const result = await following;
    expect(result).toMatchObject({
      interrupted: false,
      batch: { done: 1, skipped: 1, ended: true },
      others: [{ key: 'wait-1', state: 'done' }],
    });
    expect(await t.pipeline.store.getCustomer('wait-1')).toMatchObject({ state: 'done', batchId: earlier.batch.id });
    expect(lines.at(-1)).toMatch(
      /^progress 2\/2 \(100%\) {2}done 1 {2}failed 0 {2}running 0 {2}queued 0( {2}[\d.]+\/s {2}ETA 0s)?$/,
    );
    expect(lines.every((l) => l.startsWith('progress '))).toBe(true);
  });
});
