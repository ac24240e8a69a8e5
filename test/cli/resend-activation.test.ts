import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Fault } from '../../src/simulator/options.js';
import { tempCsv } from '../helpers/csv.js';
import { runCli } from '../helpers/cli.js';
import { jobIdFor } from '../../src/workers/queue.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * `acronis-onboard resend-activation`: what the pipeline will not do on its own (send an
 * activation e-mail a second time) done on an operator's word, through the shared API client,
 * with the record and the customer's timeline telling it.
 */
let t: TestPipeline;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'resend-activation' });
  await t.startWorkers();
});
afterAll(async () => {
  await t?.close();
});

const SEND = '^/users/\\{user_id\\}/send-activation-email$';
const sendFault = (fault: Omit<Fault, 'path' | 'methods'>): Fault => ({ ...fault, methods: ['POST'], path: SEND });
const mailsTo = (login: string) => t.sim.state().users.find((u) => u.login === login)?.activation_emails_sent;
const activationOf = async (key: string) => (await t.pipeline.store.getCustomer(key))?.facts.activation;

/** Imports `n` customers activated by `activation`, the first sends meeting `faults`; returns the batch id. */
async function importCustomers(tag: string, n: number, faults: Fault[], activation = 'email'): Promise<string> {
  t.sim.configure({ faults });
  const rows = Array.from(
    { length: n },
    (_, i) => `${tag}-${i + 1},${tag} Co ${i + 1},admin${i + 1}@${tag}.example,${activation}`,
  );
  const file = tempCsv(`${tag}.csv`, `external_id,name,email,activation\n${rows.join('\n')}\n`);
  const imported = await runCli(t, ['import', file, '--wait']);
  t.sim.configure({ faults: [] });
  expect(imported.code, imported.stdout + imported.stderr).toBe(0);
  return /^batch (\S+)/m.exec(imported.stdout)?.[1] as string;
}

describe('acronis-onboard resend-activation', () => {
  it('BATCH: sends again to each customer whose e-mail is unconfirmed, and to no other; a second run sends nothing', async () => {
    // The first send went out and its answer was lost; the second never reached the API's logic.
    const batchId = await importCustomers('rb', 4, [
      sendFault({ kind: 'commit-then-fail', drop: true, times: 1 }),
      sendFault({ kind: 'reset', times: 1 }),
    ]);
    const unconfirmed: number[] = [];
    for (const i of [1, 2, 3, 4]) if ((await activationOf(`rb-${i}`)) === 'email-unconfirmed') unconfirmed.push(i);
    expect(unconfirmed, 'the two faulted sends').toHaveLength(2);
    const before = [1, 2, 3, 4].map((i) => mailsTo(`admin${i}@rb.example`));
    // One of the two got its e-mail (the answer was lost), the other none: the pipeline cannot tell which.
    expect(unconfirmed.map((i) => before[i - 1]).sort()).toEqual([0, 1]);

    const run = await runCli(t, ['resend-activation', batchId]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    for (const i of unconfirmed)
      expect(run.stdout).toContain(`rb-${i}: activation e-mail sent again to admin${i}@rb.example`);
    expect(run.stdout).toContain('2 sent again, 0 already activated, 0 not sent');
    const after = [1, 2, 3, 4].map((i) => mailsTo(`admin${i}@rb.example`));
    expect(after).toEqual(before.map((n, i) => (unconfirmed.includes(i + 1) ? n! + 1 : n)));
    for (const i of [1, 2, 3, 4]) expect(await activationOf(`rb-${i}`)).toBe('email-sent');

    // The timeline shows it, and status no longer lists them.
    const job = await t.pipeline.queue.getJob(jobIdFor(`rb-${unconfirmed[0]}`, 'activate-user'));
    expect(job, 'activate-user job id').toBeDefined();
    const { logs } = await t.pipeline.queue.getJobLogs(job!.id!);
    expect(logs.at(-1)).toMatch(/^resend-activation: activation e-mail sent again to admin\d@rb\.example$/);
    const status = await runCli(t, ['status', batchId]);
    expect(status.stdout).not.toContain('activation e-mail unconfirmed');

    const again = await runCli(t, ['resend-activation', batchId]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`batch ${batchId} has no customer whose activation e-mail is unconfirmed`);
    expect([1, 2, 3, 4].map((i) => mailsTo(`admin${i}@rb.example`))).toEqual(after);
  });

  it('CUSTOMER: a sent e-mail the admin never got is sent again; an activated user is left alone', async () => {
    await importCustomers('rc', 2, []);
    const sent = await runCli(t, ['resend-activation', 'rc-1']);
    expect(sent.code, sent.stdout + sent.stderr).toBe(0);
    expect(sent.stdout.trim()).toBe('rc-1: activation e-mail sent again to admin1@rc.example');
    expect(mailsTo('admin1@rc.example')).toBe(2);

    // The admin of rc-2 set a password meanwhile (here through the API, as the e-mail's link does).
    const userId = (await t.pipeline.store.getCustomer('rc-2'))!.facts.userId!;
    await t.pipeline.acronis.setUserPassword(userId, 'Resend-Test-Passw0rd!');
    const activated = await runCli(t, ['resend-activation', 'rc-2']);
    expect(activated.code).toBe(0);
    expect(activated.stdout.trim()).toBe('rc-2: admin2@rc.example is already activated; nothing sent');
    expect(mailsTo('admin2@rc.example')).toBe(1);
    expect(await activationOf('rc-2')).toBe('already-activated');

    // A customer activated by password, or not at all, has no e-mail to resend.
    await importCustomers('rn', 1, [], 'password');
    const password = await runCli(t, ['resend-activation', 'rn-1']);
    expect(password.code).toBe(1);
    expect(password.stdout.trim()).toBe(
      'rn-1: not resent: the customer is done and its admin was given a password, not an e-mail (only a done customer activated by e-mail is)',
    );

    const unknown = await runCli(t, ['resend-activation', 'no-such-customer']);
    expect(unknown.code).toBe(2);
    expect(unknown.stdout.trim()).toBe('no-such-customer: no such batch or customer');
  });

  it('a send the API refused leaves the e-mail unconfirmed, exit 1, and says running again is safe; one whose answer is lost says not to', async () => {
    await importCustomers('rf', 2, [sendFault({ kind: 'commit-then-fail', drop: true, times: 2 })]);
    expect([await activationOf('rf-1'), await activationOf('rf-2')]).toEqual([
      'email-unconfirmed',
      'email-unconfirmed',
    ]);

    t.sim.configure({ faults: [sendFault({ kind: '429', times: 1 })] });
    const refused = await runCli(t, ['resend-activation', 'rf-1']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^rf-1: not sent \(.*429.*\); nothing went out, so sending again is safe$/m);
    expect(await activationOf('rf-1')).toBe('email-unconfirmed');
    expect(mailsTo('admin1@rf.example')).toBe(1);

    t.sim.configure({ faults: [sendFault({ kind: 'commit-then-fail', drop: true, times: 1 })] });
    const lost = await runCli(t, ['resend-activation', 'rf-2']);
    t.sim.configure({ faults: [] });
    expect(lost.code).toBe(1);
    expect(lost.stdout).toMatch(
      /^rf-2: the answer was lost \(.+\); it may have gone out, the e-mail stays unconfirmed: ask admin2@rf\.example before sending again$/m,
    );
    expect(await activationOf('rf-2')).toBe('email-unconfirmed');
    expect(mailsTo('admin2@rf.example')).toBe(2);
  });
});
