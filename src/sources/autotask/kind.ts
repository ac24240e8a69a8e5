import type { SourceKind } from '../kind.js';
import { AutotaskClient } from './client.js';
import { parseCallout } from './events.js';
import { readRecord } from './read-back.js';
import { AutotaskSettings } from './settings.js';
import { checkSignatureHeader, verifyHookSignature } from './signature.js';
import { writeResult } from './write-back.js';

/**
 * Autotask PSA as a source (docs/sources.md "Autotask PSA"): company (or contact) webhook
 * callouts signed with the webhook's SecretKey (`X-Hook-Signature`), the company and its primary
 * contact read back from the REST API, the result written to company UDFs or a note.
 */
export const autotaskKind: SourceKind<AutotaskSettings> = {
  kind: 'autotask',
  settingsSchema: AutotaskSettings,
  secretNames: (settings) => [
    settings.secret_key_env,
    settings.api.username_env,
    settings.api.secret_env,
    settings.api.integration_code_env,
  ],
  /**
   * Autotask retries a callout without a 2xx 5 times within 2 minutes, then drops it; 25 failed
   * events in a row deactivate the webhook. A 4xx is no different to it, so the answers say what
   * happened and a refused or unreadable callout costs one failed event.
   */
  answers: { accepted: 200, unauthenticated: 401, unreadable: 400 },
  // Autotask takes a SecretKey of up to 64 characters and recommends at least 10.
  checkSecrets: (settings, secrets) => {
    const length = (secrets[settings.secret_key_env] ?? '').length;
    return length >= 10 && length <= 64
      ? undefined
      : `the environment variable ${settings.secret_key_env} must hold the webhook's SecretKey: 10 to 64 characters`;
  },
  checkHeaders: (headers) => checkSignatureHeader(headers),
  verify: async (delivery, ctx) =>
    verifyHookSignature(delivery.headers, delivery.rawBody, ctx.secrets[ctx.settings.secret_key_env] ?? ''),
  parse: (delivery) => parseCallout(delivery.rawBody),
  readBack: (event, ctx) => readRecord(new AutotaskClient(ctx), event),
  writeBack: (target, result, ctx) =>
    writeResult(new AutotaskClient(ctx), ctx.settings.write_back, target, result, ctx.source),
  checkApi: (ctx) => new AutotaskClient(ctx).entityInformation(),
};
