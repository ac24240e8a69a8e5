import type { SourceKind } from '../kind.js';
import { checkBasicAuth } from './authenticate.js';
import { PipedriveClient } from './client.js';
import { parseWebhook } from './events.js';
import { readRecord } from './read-back.js';
import { PipedriveSettings } from './settings.js';
import { writeResult } from './write-back.js';

/**
 * Pipedrive as a source (docs/sources.md "Pipedrive"): webhooks v2 with HTTP Basic credentials
 * (Pipedrive signs nothing), the deal's organization, person and products read back through the
 * API with a user's token, the result written to organization custom fields or a note.
 */
export const pipedriveKind: SourceKind<PipedriveSettings> = {
  kind: 'pipedrive',
  settingsSchema: PipedriveSettings,
  secretNames: (settings) => [settings.webhook_user_env, settings.webhook_password_env, settings.api.token_env],
  /**
   * Pipedrive retries any non-2xx 3 times (after 3, 30 and 150 s), and counts a first attempt that
   * fails toward a ban (10 in a row: the webhook is silenced for 30 minutes, its events lost). A
   * body that authenticated but cannot be read is kept as `rejected` and answered 200, so a
   * malformed event cannot get the webhook banned and lose the good ones after it.
   */
  answers: { accepted: 200, unauthenticated: 401, unreadable: 200 },
  // The password is all that tells Pipedrive's requests from anyone's: a short one is refused at start.
  checkSecrets: (settings, secrets) =>
    (secrets[settings.webhook_password_env] ?? '').length >= 16
      ? undefined
      : `the environment variable ${settings.webhook_password_env} must hold the webhook's HTTP Basic password, at least 16 characters`,
  checkHeaders: (headers, ctx) => credentialsMatch(headers, ctx),
  verify: async (delivery, ctx) => credentialsMatch(delivery.headers, ctx),
  parse: (delivery) => parseWebhook(delivery.rawBody),
  readBack: (event, ctx) => readRecord(new PipedriveClient(ctx), ctx.settings, event),
  writeBack: (target, result, ctx) =>
    writeResult(new PipedriveClient(ctx), ctx.settings.write_back, target, result, ctx.source),
  checkApi: (ctx) => new PipedriveClient(ctx).me(),
};

function credentialsMatch(
  headers: Parameters<typeof checkBasicAuth>[0],
  ctx: { settings: PipedriveSettings; secrets: Readonly<Record<string, string>> },
) {
  const { webhook_user_env: user, webhook_password_env: password } = ctx.settings;
  return checkBasicAuth(headers, ctx.secrets[user] ?? '', ctx.secrets[password] ?? '');
}
