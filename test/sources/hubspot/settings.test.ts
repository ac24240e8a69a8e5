import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSources } from '../../../src/sources/source-file.js';

/** The HubSpot part of a source file, through the intake's loader: the example loads, a mistake names its field. */

const example = JSON.parse(
  readFileSync(new URL('../../../examples/sources/hubspot.json', import.meta.url), 'utf8'),
) as {
  settings: Record<string, unknown>;
};

function dirWith(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'i20-hubspot-settings-'));
  writeFileSync(join(dir, 'hubspot.json'), JSON.stringify(content));
  return dir;
}

describe('HubSpot source settings', () => {
  it('examples/sources/hubspot.json loads, with the defaults filled in', async () => {
    const [source] = await loadSources(dirWith(example));
    expect(source).toMatchObject({
      kind: 'hubspot',
      settings: {
        api_base_url: 'https://api.hubapi.com',
        signature_versions: ['v3', 'v2'],
        read: { line_items: true, deal_properties: expect.arrayContaining(['dealstage']) as string[] },
        write_back: { tenant_id_property: 'acronis_tenant_id', reason_property: 'acronis_reason' },
        timeout_ms: 15_000,
      },
    });
  });

  it.each([
    ['a misspelt key', { ...example.settings, client_secret: 'X' }, 'settings.client_secret', 'misspelt'],
    [
      'a secret in place of its variable',
      { ...example.settings, access_token_env: 'pat-na1-abc' },
      'settings.access_token_env',
      'never the secret itself',
    ],
    [
      'an unknown signature version',
      { ...example.settings, signature_versions: ['v4'] },
      'settings.signature_versions[0]',
      '',
    ],
    [
      'a property name HubSpot would not have',
      { ...example.settings, write_back: { state_property: 'Acronis State' } },
      'settings.write_back.state_property',
      'internal property name',
    ],
  ])('%s names the field', async (_what, settings, field, reason) => {
    await expect(loadSources(dirWith({ ...example, settings }))).rejects.toMatchObject({
      name: 'SourceFileError',
      field,
      reason: expect.stringContaining(reason) as string,
    });
  });
});
