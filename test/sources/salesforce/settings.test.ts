import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSources } from '../../../src/sources/source-file.js';

/** The Salesforce part of a source file, through the intake's loader: the example loads, a mistake names its field. */

const example = JSON.parse(
  readFileSync(new URL('../../../examples/sources/salesforce.json', import.meta.url), 'utf8'),
) as { settings: Record<string, unknown> };

function dirWith(content: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'i23-salesforce-settings-'));
  writeFileSync(join(dir, 'salesforce.json'), JSON.stringify(content));
  return dir;
}

describe('Salesforce source settings', () => {
  it('examples/sources/salesforce.json loads, with the defaults filled in', async () => {
    const [source] = await loadSources(dirWith(example));
    expect(source).toMatchObject({
      kind: 'salesforce',
      settings: {
        organization_id: '00D5e000000KQ2eEAG',
        api_version: 'v62.0',
        read: { line_items: true, account_fields: expect.arrayContaining(['Name']) as string[] },
        write_back: { tenant_id_field: 'Acronis_Tenant_Id__c', reason_field: 'Acronis_Reason__c' },
        timeout_ms: 15_000,
      },
    });
  });

  it.each([
    ['a misspelt key', { ...example.settings, org_id: 'X' }, 'settings', ''],
    [
      'an organization id of another shape',
      { ...example.settings, organization_id: '001000000000001' },
      'settings.organization_id',
      'organization id',
    ],
    [
      'a secret in place of its variable',
      { ...example.settings, client_secret_env: 'A1B2c3' },
      'settings.client_secret_env',
      'never the secret itself',
    ],
    [
      'a field name Salesforce would not have',
      { ...example.settings, write_back: { state_field: 'Acronis State' } },
      'settings.write_back.state_field',
      'API name',
    ],
  ])('%s names the field', async (_what, settings, field, reason) => {
    await expect(loadSources(dirWith({ ...example, settings }))).rejects.toMatchObject({
      name: 'SourceFileError',
      field: expect.stringContaining(field) as string,
      reason: expect.stringContaining(reason) as string,
    });
  });
});
