import { stateText, writeBackIdOf } from '../write-back-text.js';
import { SourceApiError, type SourceRecord, type WriteBack } from '../kind.js';
import type { AutotaskClient } from './client.js';
import type { AutotaskSettings } from './settings.js';

/**
 * The customer's result on its Autotask company: three company user-defined fields, or one note
 * per customer. Both read before they write, so a retry changes nothing twice
 * (docs/sources.md "Autotask PSA", write-back).
 */
export async function writeResult(
  client: AutotaskClient,
  settings: AutotaskSettings['write_back'],
  target: NonNullable<SourceRecord['writeBackTarget']>,
  result: WriteBack,
  source: string,
): Promise<void> {
  const companyId = writeBackIdOf(target, { objectType: 'company', source, vendor: 'an Autotask' });
  if (settings.mode === 'udf') return writeUdfs(client, settings.fields, companyId, result, source);
  return writeNote(client, settings, companyId, result);
}

async function writeUdfs(
  client: AutotaskClient,
  names: { tenant_id: string; admin_login: string; state: string },
  companyId: number,
  result: WriteBack,
  source: string,
): Promise<void> {
  const company = await client.getCompany(String(companyId));
  const current = new Map((company.userDefinedFields ?? []).map((u) => [u.name, u.value ?? null]));
  const wanted: Array<{ name: string; value: string | null }> = [
    { name: names.tenant_id, value: result.tenantId ?? null },
    { name: names.admin_login, value: result.adminLogin ?? null },
    { name: names.state, value: stateText(result) },
  ];
  const missing = wanted.find((w) => !current.has(w.name));
  if (missing) {
    const reason = `the company has no user-defined field "${missing.name}": create it under Admin > Features & Settings > User-Defined Fields (Companies)`;
    throw new SourceApiError(source, 'PATCH /v1.0/Companies', undefined, false, reason);
  }
  if (wanted.every((w) => (current.get(w.name) ?? null) === w.value)) return;
  await client.updateCompanyUdfs(companyId, wanted);
}

async function writeNote(
  client: AutotaskClient,
  settings: Extract<AutotaskSettings['write_back'], { mode: 'note' }>,
  companyId: number,
  result: WriteBack,
): Promise<void> {
  const marker = `[acronis-onboard ${result.customer}]`;
  const description = [
    marker,
    `State: ${stateText(result)}`,
    `Acronis tenant: ${result.tenantId ?? '-'}`,
    `Admin login: ${result.adminLogin ?? '-'}`,
  ].join('\n');
  const existing = (await client.companyNotes(companyId)).find((n) => n.description?.startsWith(marker));
  if (existing?.description === description) return;
  if (existing) return client.updateCompanyNote(companyId, existing.id, description);
  await client.addCompanyNote(companyId, { title: settings.title, description, actionType: settings.action_type });
}
