import { stateText, writeBackIdOf } from '../write-back-text.js';
import { SourceApiError, type SourceRecord, type WriteBack } from '../kind.js';
import type { CustomFieldValue } from './api-schemas.js';
import type { ConnectWiseClient } from './client.js';
import type { ConnectWiseWriteBackSettings, CustomFieldRef } from './settings.js';

/**
 * The customer's result on its ConnectWise company: three company custom fields (tenant id, admin
 * login, state) or one note per customer. Both look before they write, so a retry or a re-run
 * after a crash changes nothing twice (docs/sources.md "ConnectWise PSA", write-back).
 */
export async function writeResult(
  client: ConnectWiseClient,
  settings: ConnectWiseWriteBackSettings,
  target: NonNullable<SourceRecord['writeBackTarget']>,
  result: WriteBack,
  source: string,
): Promise<void> {
  const companyId = writeBackIdOf(target, { objectType: 'company', source, vendor: 'a ConnectWise' });
  if (settings.mode === 'custom_fields') return writeCustomFields(client, settings.fields, companyId, result, source);
  return writeNote(client, settings, companyId, result);
}

async function writeCustomFields(
  client: ConnectWiseClient,
  refs: { tenant_id: CustomFieldRef; admin_login: CustomFieldRef; state: CustomFieldRef },
  companyId: number,
  result: WriteBack,
  source: string,
): Promise<void> {
  const company = await client.getCompany(companyId);
  const fields = company.customFields ?? [];
  const wanted: Array<[CustomFieldRef, string | null]> = [
    [refs.tenant_id, result.tenantId ?? null],
    [refs.admin_login, result.adminLogin ?? null],
    [refs.state, stateText(result)],
  ];
  const values = new Map<number, string | null>();
  for (const [ref, value] of wanted) values.set(findField(fields, ref, source).id, value);
  if (fields.every((f) => !values.has(f.id) || f.value === values.get(f.id))) return;
  const updated: CustomFieldValue[] = fields.map((f) => (values.has(f.id) ? { ...f, value: values.get(f.id) } : f));
  await client.patchCompanyCustomFields(companyId, updated);
}

function findField(fields: CustomFieldValue[], ref: CustomFieldRef, source: string): CustomFieldValue {
  const found = fields.find((f) => (ref.id !== undefined ? f.id === ref.id : f.caption === ref.caption));
  if (found) return found;
  const name = ref.id !== undefined ? `id ${ref.id}` : `"${ref.caption}"`;
  throw new SourceApiError(
    source,
    'PATCH /company/companies/{id}',
    undefined,
    false,
    `the company has no custom field ${name}: create it under System > Setup Tables > Custom Fields (screen: Company)`,
  );
}

async function writeNote(
  client: ConnectWiseClient,
  settings: Extract<ConnectWiseWriteBackSettings, { mode: 'note' }>,
  companyId: number,
  result: WriteBack,
): Promise<void> {
  const marker = `[acronis-onboard ${result.customer}]`;
  const text = [
    marker,
    `State: ${stateText(result)}`,
    `Acronis tenant: ${result.tenantId ?? '-'}`,
    `Admin login: ${result.adminLogin ?? '-'}`,
  ].join('\n');
  const existing = (await client.listCompanyNotes(companyId)).find((n) => n.text.startsWith(marker));
  if (existing?.text === text) return;
  if (existing) {
    await client.replaceCompanyNoteText(companyId, existing.id, text);
    return;
  }
  const type = settings.note_type_id === undefined ? undefined : { id: settings.note_type_id };
  await client.addCompanyNote(companyId, { text, ...(type ? { type } : {}), flagged: settings.flagged });
}
