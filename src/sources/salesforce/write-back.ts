import type { WriteBack } from '../kind.js';
import type { SalesforceRestClient } from './rest-client.js';
import type { SalesforceSettings } from './settings.js';

/** A Text(255) custom field is the usual choice for the reason; longer is cut. */
const MAX_REASON = 255;

/** The Account fields a result sets (docs/sources.md "Salesforce", write-back). */
export function writeBackFields(settings: SalesforceSettings, result: WriteBack): Record<string, string> {
  const names = settings.write_back;
  const fields: Record<string, string> = { [names.state_field]: result.state };
  if (result.tenantId) fields[names.tenant_id_field] = result.tenantId;
  if (result.adminLogin) fields[names.admin_login_field] = result.adminLogin;
  if (names.reason_field) fields[names.reason_field] = (result.reason ?? '').slice(0, MAX_REASON);
  return fields;
}

/**
 * Reads the Account's fields first and PATCHes only when one differs: a retried job writes
 * nothing twice, and an update that would fire the org's own automation again is not sent.
 */
export async function writeAccountResult(
  client: SalesforceRestClient,
  settings: SalesforceSettings,
  accountId: string,
  result: WriteBack,
): Promise<'written' | 'unchanged'> {
  const wanted = writeBackFields(settings, result);
  const current = await client.getRecord('Account', accountId, Object.keys(wanted));
  const differs = Object.entries(wanted).some(([name, value]) => (current[name] ?? '') !== value);
  if (!differs) return 'unchanged';
  await client.updateAccount(accountId, wanted);
  return 'written';
}
