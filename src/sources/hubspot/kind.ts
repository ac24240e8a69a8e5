import { SourceApiError, type SourceKind } from '../kind.js';
import { HubSpotCrmClient } from './crm-client.js';
import { parseHubSpotBody } from './events.js';
import { readRecord } from './read-back.js';
import { HubSpotSettings } from './settings.js';
import { checkSignatureHeaders, verifySignature } from './signature.js';
import { writeCompanyResult } from './write-back.js';

/**
 * HubSpot as a source (docs/sources.md "HubSpot"): app webhook subscriptions and workflow
 * "Send a webhook" actions, signed v3, v2 or v1 with the app's client secret; records read back
 * through the CRM v3 API with a private app token; results written to company properties.
 */

export const hubspotKind: SourceKind<HubSpotSettings> = {
  kind: 'hubspot',
  settingsSchema: HubSpotSettings,
  secretNames: (settings) => [settings.client_secret_env, settings.access_token_env],
  /**
   * HubSpot retries 5xx, 429 and timeouts (app webhooks up to 10 times over a day, workflows for
   * up to three days) and never 400, 401, 403, 404 or 405: so a forged or unreadable request gets
   * a 4xx it will not resend, and a recorded one 200.
   */
  answers: { accepted: 200, unauthenticated: 401, unreadable: 400 },

  checkHeaders: (headers, ctx, now) => checkSignatureHeaders(headers, ctx.settings.signature_versions, now),

  verify: async (delivery, ctx) => {
    const clientSecret = ctx.secrets[ctx.settings.client_secret_env];
    // An empty secret would make every signature computable by anyone.
    if (!clientSecret) return { ok: false, reason: `${ctx.settings.client_secret_env} is empty` };
    return verifySignature({
      headers: delivery.headers,
      method: delivery.method,
      uri: delivery.signedUrl,
      body: delivery.rawBody,
      clientSecret,
      accepted: ctx.settings.signature_versions,
      now: delivery.receivedAt,
    });
  },

  parse: (delivery, ctx) => parseHubSpotBody(delivery.rawBody, ctx.settings.workflow_object_type),

  readBack: (event, ctx) => readRecord(new HubSpotCrmClient(ctx), ctx.settings, event),

  writeBack: async (target, result, ctx) => {
    if (target.objectType !== 'company') {
      throw new SourceApiError(
        ctx.source,
        'PATCH /crm/v3/objects/companies/{id}',
        undefined,
        false,
        `cannot write a result to a ${target.objectType}`,
      );
    }
    const outcome = await writeCompanyResult(new HubSpotCrmClient(ctx), ctx.settings, target.objectId, result);
    ctx.logger.debug({ company: target.objectId, outcome }, 'hubspot write-back');
  },

  checkApi: (ctx) => new HubSpotCrmClient(ctx).firstCompany(),
};
