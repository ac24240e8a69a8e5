import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_RATES } from '../../bench/soak-faults.js';
import { soakProblems, soakTable } from '../../bench/soak-report.js';
import { runSoak } from '../../bench/soak-run.js';

// The soak starts its own simulator, redis-server (on a free port, killed mid-run) and
// commands, each with its own QUEUE_PREFIX; nothing touches the shared Redis on 6379.
const dir = mkdtempSync(join(tmpdir(), 'soak-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the fault soak, 20 customers', () => {
  it('every fault, each work process and Redis SIGKILLed: all done, none lost, stuck or made twice', async () => {
    const report = await runSoak({
      customers: 20,
      rateLimit: 100,
      latencyMs: 20,
      jitterMs: 10,
      workers: 2,
      concurrency: 8,
      rates: DEFAULT_RATES,
      killsPerWorker: 1,
      // The outage's length, not a wait for something to happen.
      redisDownMs: 1000,
      stallSeconds: 20,
      // Short enough that hung calls and a killed worker's jobs come back within the test.
      env: { ACRONIS_TIMEOUT_MS: '2000', JOB_LOCK_MS: '2000', STEP_BACKOFF_MS: '100' },
      // Odd rows by e-mail, even ones by a password we set: a lost answer to either must not
      // send a second e-mail or set a second password.
      activation: 'alternate',
      importGraceMs: 20_000,
      dir,
    });
    const table = `${soakTable(report)}\n${soakProblems(report).join('\n')}`;
    // The kills and the faults happened: a run without them would prove nothing.
    expect(report.kills, table).toEqual({ work: 2, redis: 1 });
    expect(report.faulted.serverError + report.faulted.tooMany + report.faulted.dropped, table).toBeGreaterThan(0);
    expect(
      { done: report.done, failed: report.failed, lost: report.lost, stuck: report.stuck, stalled: report.stalled },
      table,
    ).toEqual({ done: 20, failed: 0, lost: 0, stuck: 0, stalled: false });
    expect(report.duplicates, table).toEqual({ tenants: 0, users: 0, tokens: 0, activationEmails: 0, passwordsSet: 0 });
    // import --wait followed the batch through the Redis kill and ended with its summary.
    expect({ code: report.import.code, printedSummary: report.import.printedSummary }, table).toEqual({
      code: 0,
      printedSummary: true,
    });
    // A stalled run waits stallSeconds before it reports: room for that, so a failure shows the report.
  }, 120_000);
});
