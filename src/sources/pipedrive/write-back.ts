import { stateText, writeBackIdOf } from '../write-back-text.js';
import type { SourceRecord, WriteBack } from '../kind.js';
import type { PipedriveClient } from './client.js';
import type { PipedriveSettings } from './settings.js';

function valueOf(raw: unknown): unknown {
  return raw && typeof raw === 'object' && 'value' in raw ? (raw as { value: unknown }).value : raw;
}

/**
 * The customer's result on its Pipedrive organization: three organization custom fields (text), or
 * one note per customer. Both read before they write, so a retry changes nothing twice
 * (docs/sources.md "Pipedrive", write-back).
 */
export async function writeResult(
  client: PipedriveClient,
  settings: PipedriveSettings['write_back'],
  target: NonNullable<SourceRecord['writeBackTarget']>,
  result: WriteBack,
  source: string,
): Promise<void> {
  const orgId = writeBackIdOf(target, { objectType: 'organization', source, vendor: 'a Pipedrive' });
  if (settings.mode === 'fields') {
    const wanted: Record<string, string | null> = {
      [settings.fields.tenant_id]: result.tenantId ?? null,
      [settings.fields.admin_login]: result.adminLogin ?? null,
      [settings.fields.state]: stateText(result),
    };
    const current = (await client.getOrganization(orgId)).custom_fields ?? {};
    if (Object.entries(wanted).every(([key, value]) => (valueOf(current[key]) ?? null) === value)) return;
    return client.updateOrganizationFields(orgId, wanted);
  }
  const marker = `[acronis-onboard ${result.customer}]`;
  const content = [
    marker,
    `State: ${stateText(result)}`,
    `Acronis tenant: ${result.tenantId ?? '-'}`,
    `Admin login: ${result.adminLogin ?? '-'}`,
  ].join('\n');
  const existing = (await client.organizationNotes(orgId)).find((n) => n.content?.startsWith(marker));
  if (existing?.content === content) return;
  if (existing) return client.updateNote(existing.id, content);
  await client.addNote(orgId, content);
}
