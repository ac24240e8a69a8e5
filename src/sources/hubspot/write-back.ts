import type { WriteBack } from '../kind.js';
import type { HubSpotCrmClient } from './crm-client.js';
import type { HubSpotSettings } from './settings.js';

/** HubSpot keeps a single-line text property up to 65,536 characters; a reason needs far less. */
const MAX_REASON = 1000;

/** The company properties a result sets (docs/sources.md "HubSpot", write-back). */
export function writeBackProperties(settings: HubSpotSettings, result: WriteBack): Record<string, string> {
  const names = settings.write_back;
  const properties: Record<string, string> = { [names.state_property]: result.state };
  if (result.tenantId) properties[names.tenant_id_property] = result.tenantId;
  if (result.adminLogin) properties[names.admin_login_property] = result.adminLogin;
  if (names.reason_property) properties[names.reason_property] = (result.reason ?? '').slice(0, MAX_REASON);
  return properties;
}

/**
 * Reads the company's properties first and PATCHes only when one differs: a retried job, or a
 * second result for the same company, writes nothing twice and does not bump its history.
 */
export async function writeCompanyResult(
  client: HubSpotCrmClient,
  settings: HubSpotSettings,
  companyId: string,
  result: WriteBack,
): Promise<'written' | 'unchanged'> {
  const wanted = writeBackProperties(settings, result);
  const current = await client.getObject('companies', companyId, Object.keys(wanted));
  const differs = Object.entries(wanted).some(([name, value]) => (current.properties[name] ?? '') !== value);
  if (!differs) return 'unchanged';
  await client.updateCompany(companyId, wanted);
  return 'written';
}
