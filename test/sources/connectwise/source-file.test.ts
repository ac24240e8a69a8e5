import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSourceFile, SourceFileError } from '../../../src/sources/source-file.js';

const example = JSON.parse(
  readFileSync(new URL('../../../examples/sources/connectwise.json', import.meta.url), 'utf8'),
);

function problem(json: unknown): SourceFileError {
  try {
    parseSourceFile('cw', json, 'cw.json');
  } catch (error) {
    expect(error).toBeInstanceOf(SourceFileError);
    return error as SourceFileError;
  }
  throw new Error('the source file was accepted');
}

describe('a ConnectWise source file', () => {
  it('the example is a valid source, production rules on', () => {
    const source = parseSourceFile('connectwise', example, 'examples/sources/connectwise.json');
    expect(source.kind).toBe('connectwise');
    expect(source.settings).toMatchObject({ allow_insecure_test_host: false, write_back: { mode: 'custom_fields' } });
  });

  it('a bad setting stops the start naming the field', () => {
    const misspelt = { ...example, settings: { ...example.settings, callback_keyhost: 'x' } };
    expect(problem(misspelt)).toMatchObject({ field: 'settings.callback_keyhost' });
    const noApi = {
      ...example,
      settings: { ...example.settings, api: { ...example.settings.api, base_url: 'not a url' } },
    };
    expect(problem(noApi)).toMatchObject({ field: 'settings.api.base_url' });
    const badEnv = {
      ...example,
      settings: { ...example.settings, api: { ...example.settings.api, private_key_env: 'private key' } },
    };
    expect(problem(badEnv)).toMatchObject({ field: 'settings.api.private_key_env' });
    const noField = {
      ...example,
      settings: {
        ...example.settings,
        write_back: { mode: 'custom_fields', fields: { tenant_id: {}, admin_login: { id: 1 }, state: { id: 2 } } },
      },
    };
    expect(problem(noField).reason).toContain('custom field id or caption');
  });
});
