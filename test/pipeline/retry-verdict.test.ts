import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor } from '../../src/workers/queue.js';
import { CLI_CWD, runCli } from '../helpers/cli.js';
import { startDashboardPipeline, type DashboardPipeline } from '../helpers/dashboard.js';
import { simulatorApi } from '../helpers/simulator.js';

let t: DashboardPipeline;
const cli = (args: string[]) => runCli(t, args);

beforeAll(async () => {
  // Two attempts per step, so a fault on every PUT exhausts a step for sure.
  t = await startDashboardPipeline({ label: 'retry-verdict', env: { STEP_ATTEMPTS: '2' } });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

/** Someone else's customer tenant holding `login`, so our create-user for it conflicts. */
async function loginTakenElsewhere(login: string): Promise<void> {
  const api = simulatorApi(t.sim);
  const other = await api.post('/tenants', {
    name: `Holder of ${login}`,
    parent_id: t.sim.seed.partnerTenantId,
    kind: 'customer',
  });
  expect(other.status).toBe(201);
  const user = await api.post('/users', { tenant_id: other.body.id, login, contact: { email: 'x@else.example' } });
  expect(user.status).toBe(200);
}

type Row = { external_id: string; name: string; email: string; login: string };

/** `acronis-onboard import FILE` as an operator runs it; returns the batch once the workers ended it. */
async function importCsv(file: string, rows: Row[]): Promise<string> {
  const lines = [
    'external_id,name,email,login',
    ...rows.map((r) => `${r.external_id},${r.name},${r.email},${r.login}`),
  ];
  writeFileSync(join(CLI_CWD, file), `${lines.join('\n')}\n`);
  const run = await cli(['import', file]);
  expect(run.code, run.stderr).toBe(0);
  const batchId = /batch (b-\S+)/.exec(run.stdout)?.[1];
  expect(batchId, run.stdout).toBeDefined();
  await t.waitForBatch(batchId!);
  return batchId!;
}

const transientFault = () =>
  t.sim.configure({
    faults: [{ kind: '5xx', status: 503, methods: ['PUT'], path: '^/users/\\{user_id\\}/access_policies$' }],
  });
const userPosts = () => Object.values(t.sim.stats().byEndpoint['POST /users'] ?? {}).reduce((a, b) => a + b, 0);

describe('retry tells a conflict that needs a change from a failure that may pass now', () => {
  it('a login taken by another account: retry queues nothing, says what to change and how to import it again (exit 1); the fixed row completes', async () => {
    await loginTakenElsewhere('taken.one');
    const row = { external_id: 'crm-1001', name: 'Verdict One Ltd', email: 'it@one.example', login: 'taken.one' };
    const batchId = await importCsv('customers.csv', [row]);
    const failed = await t.pipeline.store.getCustomer('crm-1001');
    expect(failed).toMatchObject({ state: 'failed', failedStep: 'create-user' });
    expect(failed?.needsChange).toMatchObject({ field: 'login', value: 'taken.one' });

    t.sim.resetStats();
    const retry = await cli(['retry', 'crm-1001']);
    expect(retry.code).toBe(1);
    const [line, count] = retry.stdout.split('\n');
    expect(line).toMatch(/^crm-1001: needs a change, not queued: login "taken\.one" is already used by /);
    expect(line).toContain(
      'change the login in its row of customers.csv and import it again (acronis-onboard import customers.csv)',
    );
    expect(count).toBe('0 customers queued again; not queued: 1 needs a change');
    expect(retry.stdout).toContain('retry KEY --force');
    // Nothing was queued: the record and its failed job stay as they were, no request was sent.
    expect(await t.pipeline.store.getCustomer('crm-1001')).toMatchObject({
      state: 'failed',
      failedStep: 'create-user',
    });
    expect(await (await t.pipeline.queue.getJob(jobIdFor('crm-1001', 'create-user')))?.isFailed()).toBe(true);
    expect(userPosts()).toBe(0);
    expect(await t.pipeline.store.getBatch(batchId)).toMatchObject({ failed: 1, queued: 0 });

    // The step it printed: the row with another login, imported again.
    const again = await importCsv('customers.csv', [{ ...row, login: 'one.admin' }]);
    expect(await t.pipeline.store.getBatch(again)).toMatchObject({ done: 1, failed: 0 });
    expect(await t.pipeline.store.getCustomer('crm-1001')).toMatchObject({ state: 'done' });
    expect((await t.pipeline.store.getCustomer('crm-1001'))?.needsChange).toBeUndefined();
  });

  it('retry --force queues a conflict anyway (for when it was removed); while it is not, it fails the same way again', async () => {
    await loginTakenElsewhere('taken.forced');
    const row = { external_id: 'crm-2001', name: 'Forced Ltd', email: 'it@forced.example', login: 'taken.forced' };
    const batchId = await importCsv('forced.csv', [row]);
    t.sim.resetStats();
    const forced = await cli(['retry', 'crm-2001', '--force']);
    expect(forced.code).toBe(0);
    expect(forced.stdout).toContain('crm-2001: queued again at create-user');
    await t.waitForBatch(batchId);
    expect(userPosts()).toBe(1);
    expect(await t.pipeline.store.getCustomer('crm-2001')).toMatchObject({
      state: 'failed',
      needsChange: { field: 'login', value: 'taken.forced' },
    });
  });

  it('a transient failure (503 until the attempts ran out, then cleared): retry queues it and it completes (exit 0)', async () => {
    transientFault();
    const row = {
      external_id: 'crm-3001',
      name: 'Transient Ltd',
      email: 'it@transient.example',
      login: 'transient.admin',
    };
    const batchId = await importCsv('transient.csv', [row]);
    const failed = await t.pipeline.store.getCustomer('crm-3001');
    expect(failed).toMatchObject({ state: 'failed', failedStep: 'assign-roles', errorRetryable: 'true' });
    expect(failed?.needsChange).toBeUndefined();
    t.sim.configure({ faults: [] });

    const retry = await cli(['retry', 'crm-3001']);
    expect(retry.code).toBe(0);
    expect(retry.stdout).toBe('crm-3001: queued again at assign-roles\n1 customer queued again\n');
    expect(await t.waitForBatch(batchId)).toMatchObject({ done: 1, failed: 0 });
  });

  it('a batch with one of each: one queued, one reported (exit 1); the dashboard gives the same verdict', async () => {
    await loginTakenElsewhere('taken.mixed');
    transientFault();
    const batchId = await importCsv('mixed.csv', [
      { external_id: 'crm-4001', name: 'Mixed Conflict Ltd', email: 'it@conflict.example', login: 'taken.mixed' },
      { external_id: 'crm-4002', name: 'Mixed Transient Ltd', email: 'it@mixed.example', login: 'mixed.admin' },
    ]);
    expect(await t.pipeline.store.getBatch(batchId)).toMatchObject({ failed: 2 });
    t.sim.configure({ faults: [] });

    const retry = await cli(['retry', batchId]);
    expect(retry.code).toBe(1);
    const lines = retry.stdout.trim().split('\n');
    const conflictLine = lines.find((l) => l.startsWith('crm-4001: needs a change, not queued: login "taken.mixed"'));
    expect(conflictLine).toContain('(acronis-onboard import mixed.csv)');
    expect(lines).toContain('crm-4002: queued again at assign-roles');
    expect(lines).toContain('1 customer queued again; not queued: 1 needs a change');
    expect(await t.waitForBatch(batchId)).toMatchObject({ done: 1, failed: 1 });

    // The dashboard's Retry all failed, on what is left: the conflict, told in the CLI's words.
    const client = t.client();
    await client.signIn();
    const posted = await client.post(`/batches/${batchId}/retry`, {
      _csrf: await client.csrfToken(`/batches/${batchId}`),
    });
    expect(posted.status).toBe(303);
    const notice = await noticeOn(client, `/batches/${batchId}`);
    expect(notice).toBe(`0 customers queued again; not queued: 1 needs a change; ${conflictLine}`);
    // The CLI asked about the same state: its count line and its customer's line, word for word.
    const same = await cli(['retry', batchId]);
    const [cliLine, cliCount] = same.stdout.split('\n');
    expect(cliLine).toBe(conflictLine);
    expect(notice).toBe(`${cliCount}; ${cliLine}`);

    // And its Retry on the customer alone.
    const one = await client.post('/customers/crm-4001/retry', {
      _csrf: await client.csrfToken(`/batches/${batchId}`),
    });
    expect(one.status).toBe(303);
    expect(await noticeOn(client, `/batches/${batchId}`)).toBe(conflictLine);
    expect(await t.pipeline.store.getCustomer('crm-4001')).toMatchObject({ state: 'failed' });
  });

  it('a batch with nothing failed: the dashboard says what the CLI says', async () => {
    const row = { external_id: 'crm-5001', name: 'Nothing Failed Ltd', email: 'it@none.example', login: 'none.admin' };
    const batchId = await importCsv('none-failed.csv', [row]);
    const retry = await cli(['retry', batchId]);
    expect(retry.code).toBe(0);
    const [cliLine] = retry.stdout.split('\n');
    expect(cliLine).toBe(`batch ${batchId} has no failed customers`);

    const client = t.client();
    await client.signIn();
    const posted = await client.post(`/batches/${batchId}/retry`, {
      _csrf: await client.csrfToken(`/batches/${batchId}`),
    });
    expect(posted.status).toBe(303);
    expect(await noticeOn(client, `/batches/${batchId}`)).toBe(cliLine);
  });
});

/** The dashboard's notice on `path`, as plain text (the page escapes it for HTML). */
async function noticeOn(client: ReturnType<DashboardPipeline['client']>, path: string): Promise<string | undefined> {
  const page = await client.get(path);
  return /<div class="notice" role="status">([^<]*)<\/div>/
    .exec(page.text)?.[1]
    ?.replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&');
}
