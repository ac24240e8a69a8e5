import { silentLogger } from '../../../src/logger.js';
import type { KindContext } from '../../../src/sources/kind.js';
import { SalesforceSettings } from '../../../src/sources/salesforce/settings.js';

/** A Salesforce kind's context as the intake would build it: parsed settings, resolved secrets, a rate-limit hook. */
export function salesforceContext(
  options: {
    source?: string;
    settings?: Record<string, unknown>;
    secrets?: Record<string, string>;
    acquire?: () => Promise<void>;
  } = {},
): KindContext<SalesforceSettings> {
  const settings = SalesforceSettings.parse({
    organization_id: '00D5e000000KQ2eEAG',
    instance_url: 'https://example.my.salesforce.com',
    client_id_env: 'SF_CLIENT_ID',
    client_secret_env: 'SF_CLIENT_SECRET',
    ...options.settings,
  });
  return {
    source: options.source ?? 'salesforce-eu',
    settings,
    secrets: options.secrets ?? { SF_CLIENT_ID: 'id', SF_CLIENT_SECRET: 'secret' },
    acquire: options.acquire ?? (async () => {}),
    logger: silentLogger,
  };
}
