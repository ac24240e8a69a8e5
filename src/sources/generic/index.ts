import type { SourceKind } from '../kind.js';
import { flattenFields } from '../record-fields.js';
import { checkGenericHeaders, verifyGeneric } from './authenticate.js';
import { parseGenericBody } from './body.js';
import { genericSecretNames, genericSettingsSchema, type GenericSettings } from './settings.js';
import { isSecret } from './standard-webhooks.js';
import { postGenericResult } from './write-back.js';

/**
 * Any JSON sender (docs/sources.md "Generic JSON"): the event carries the whole customer, so
 * nothing is read back; the record is the object's own fields.
 */
export const genericKind: SourceKind<GenericSettings> = {
  kind: 'generic',
  settingsSchema: genericSettingsSchema,
  secretNames: genericSecretNames,
  checkSecrets: (settings, secrets) => {
    const names = settings.auth.scheme === 'standard-webhooks' ? genericSecretNames(settings) : [];
    const signing = settings.callback ? [...names, settings.callback.secret_env] : names;
    const bad = signing.find((n) => n !== undefined && !isSecret(secrets[n] ?? ''));
    return (
      bad && `the environment variable ${bad} must be a Standard Webhooks secret: whsec_ and 24–64 bytes in base64`
    );
  },
  // Standard Webhooks senders retry any non-2xx; a body we cannot read is answered 400 all the same:
  // the spec's senders give up on it after their schedule, and nothing would make it readable.
  answers: { accepted: 202, unauthenticated: 401, unreadable: 400 },
  checkHeaders: (headers, ctx, now) => checkGenericHeaders(headers, ctx.settings, ctx.secrets, now),
  verify: (delivery, ctx) =>
    Promise.resolve(verifyGeneric(delivery.headers, delivery.rawBody, ctx.settings, ctx.secrets, delivery.receivedAt)),
  parse: (delivery, ctx) => parseGenericBody(delivery, ctx.settings),
  readBack: (event, ctx) =>
    Promise.resolve({
      fields: flattenFields(event.payload),
      ...(ctx.settings.callback ? { writeBackTarget: { objectType: event.objectType, objectId: event.objectId } } : {}),
    }),
  writeBack: postGenericResult,
  checkApi: () => Promise.resolve(),
};
