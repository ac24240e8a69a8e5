import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSources, SourceFileError } from '../../src/sources/source-file.js';
import { runCli } from '../helpers/cli.js';
import { startTestPipeline, type TestPipeline } from '../helpers/pipeline.js';

/** A source file that cannot be used stops the start, naming the file and the field (docs/sources.md). */

const good = {
  kind: 'generic',
  trigger: { all: [{ field: 'deal.status', equals: ['won'] }] },
  mapping: { name: 'company.name', email: 'contact.email', quotas: { workstations: { value: 5 } } },
  settings: { auth: { scheme: 'bearer', token_env: 'SHOP_TOKEN' } },
};

function dirWith(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'i20-source-files-'));
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content));
  return dir;
}

async function problem(files: Record<string, unknown>): Promise<SourceFileError> {
  const err = await loadSources(dirWith(files)).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (err instanceof SourceFileError) return err;
  throw new Error(`expected a SourceFileError, got ${String(err)}`);
}

describe('source files', () => {
  it('reads every <name>.json of the directory, the name from the file', async () => {
    const sources = await loadSources(dirWith({ 'shop.json': good, 'crm-2.json': good, 'notes.txt': 'x' }));
    expect(sources.map((s) => s.name)).toEqual(['crm-2', 'shop']);
    expect(sources[0]).toMatchObject({ kind: 'generic', rate_limit: { per_second: 5 } });
    expect(sources[0]?.actions).toBeUndefined();
  });

  it('an actions section keeps offboarding off unless the file allows it', async () => {
    const suspend = { all: [{ field: 'deal.status', equals: ['lost'] }] };
    const [source] = await loadSources(dirWith({ 'shop.json': { ...good, actions: { suspend, offboard: suspend } } }));
    expect(source?.actions).toEqual({ suspend, offboard: suspend, allow_offboard: false });
  });

  it.each([
    ['a misspelt key', { ...good, mapings: {} }, 'mapings', 'is not a source setting (misspelt?)'],
    ['an unknown kind', { ...good, kind: 'zendesk' }, 'kind', 'must be one of generic'],
    ['a mapping to no customer field', { ...good, mapping: { colour: 'x' } }, 'mapping.colour', 'misspelt'],
    [
      'a condition without values',
      { ...good, trigger: { all: [{ field: 'a', equals: [] }] } },
      'trigger.all[0].equals',
      'must list at least one value',
    ],
    [
      'a secret written into the file',
      { ...good, settings: { auth: { scheme: 'bearer', token_env: 's3cr3t-token' } } },
      'settings.auth.token_env',
      'never the secret itself',
    ],
    ['a bad rate limit', { ...good, rate_limit: { per_second: 0 } }, 'rate_limit.per_second', 'must be above 0'],
    [
      'an action that is not one a source can ask for',
      { ...good, actions: { change: { all: [] } } },
      'actions.change',
      'is not a source setting (misspelt?)',
    ],
    [
      'allow_offboard as text',
      { ...good, actions: { allow_offboard: 'yes' } },
      'actions.allow_offboard',
      'must be true or false',
    ],
  ])('%s names the field', async (_what, content, field, reason) => {
    const err = await problem({ 'shop.json': content });
    expect(err.file).toMatch(/shop\.json$/);
    expect(err.field).toBe(field);
    expect(err.reason).toContain(reason);
  });

  it('bad JSON and a bad file name name the file', async () => {
    expect((await problem({ 'shop.json': '{ "kind": ' })).reason).toMatch(/is not valid JSON/);
    expect((await problem({ 'Shop Name.json': good })).field).toBe('(file name)');
  });
});

describe('serve with a bad source file', () => {
  let t: TestPipeline;
  beforeAll(async () => {
    t = await startTestPipeline({ label: 'source-file', env: { WEBHOOK_SECRET: 'a-webhook-secret-of-24-chars' } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stops with exit 2, one line naming the file and the field', async () => {
    const dir = dirWith({ 'shop.json': { ...good, trigger: { all: [{ field: 'a', equals: [] }] } } });
    const run = await runCli(t, ['serve'], { SOURCES_DIR: dir, PORT: '0' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      `source file ${join(dir, 'shop.json')}: trigger.all[0].equals: must list at least one value`,
    );
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a secret variable that is not set stops it the same way', async () => {
    const dir = dirWith({ 'shop.json': good });
    const run = await runCli(t, ['serve'], { SOURCES_DIR: dir, PORT: '0' });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('settings: names the environment variable SHOP_TOKEN, which is not set');
  });
});
