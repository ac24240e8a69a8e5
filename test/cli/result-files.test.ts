import { execFileSync } from 'node:child_process';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, spawnCli } from '../helpers/cli.js';
import { sampleCustomers, startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/**
 * Results hold passwords and agent tokens: `results --output` says what it wrote where, warns
 * when the file would land in a git work tree unignored, and this repository ignores the names
 * its docs suggest.
 */
const ROOT = resolve(import.meta.dirname, '../..');
let t: TestPipeline;
let batchId: string;

beforeAll(async () => {
  t = await startTestPipeline({ label: 'result-files' });
  await t.startWorkers();
  const { batch } = await t.enqueue(sampleCustomers(1, 'ResultFiles'));
  await t.waitForBatch(batch.id);
  batchId = batch.id;
});
afterAll(async () => {
  await t?.close();
});

const ignored = (cwd: string, path: string) => {
  try {
    execFileSync('git', ['check-ignore', '-q', path], { cwd });
    return true;
  } catch {
    return false;
  }
};

function gitRepo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-git-'));
  execFileSync('git', ['init', '-q'], { cwd: dir });
  return dir;
}

describe('result files stay out of git', () => {
  it('this repository ignores the result files its docs and the dashboard name', () => {
    for (const name of ['onboarded.csv', 'onboarded.json', `results-${batchId}.csv`, `results-${batchId}.json`])
      expect(ignored(ROOT, name), name).toBe(true);
    expect(ignored(ROOT, 'examples/customers.csv')).toBe(false);
  });

  it('results --output says what it wrote where (mode 0600)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acronis-onboard-results-'));
    const run = await spawnCli(dir, ['results', batchId, '--output', 'onboarded.csv'], cliEnv(t));
    expect(run.code, run.stderr).toBe(0);
    const file = join(dir, 'onboarded.csv');
    expect(run.stdout).toBe(
      `wrote the results of 1 customer of batch ${batchId} to ${file} (CSV, mode 0600: it holds passwords and agent tokens)\n`,
    );
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('a file a git work tree would track: a warning naming it; an ignored one: none', async () => {
    const repo = gitRepo();
    const tracked = await spawnCli(repo, ['results', batchId, '--output', 'out.json', '--format', 'json'], cliEnv(t));
    expect(tracked.code, tracked.stderr).toBe(0);
    expect(tracked.stderr).toContain(`warning: ${join(repo, 'out.json')} is in a git work tree and not ignored`);
    writeFileSync(join(repo, '.gitignore'), 'out.json\n');
    const quiet = await spawnCli(repo, ['results', batchId, '--output', 'out.json', '--format', 'json'], cliEnv(t));
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).toBe('');
  });
});
