import { silentLogger } from '../../../src/logger.js';
import type { KindContext } from '../../../src/sources/kind.js';
import { HubSpotSettings } from '../../../src/sources/hubspot/settings.js';

/** A HubSpot kind's context as the intake would build it: parsed settings, resolved secrets, a rate-limit hook. */
export function hubspotContext(
  options: {
    settings?: Record<string, unknown>;
    secrets?: Record<string, string>;
    acquire?: () => Promise<void>;
  } = {},
): KindContext<HubSpotSettings> {
  const settings = HubSpotSettings.parse({
    client_secret_env: 'HUBSPOT_CLIENT_SECRET',
    access_token_env: 'HUBSPOT_TOKEN',
    ...options.settings,
  });
  return {
    source: 'hubspot-eu',
    settings,
    secrets: options.secrets ?? { HUBSPOT_CLIENT_SECRET: 'client-secret-of-the-app', HUBSPOT_TOKEN: 'token' },
    acquire: options.acquire ?? (async () => {}),
    logger: silentLogger,
  };
}
