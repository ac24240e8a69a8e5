import { SourceApiError, type SourceKind } from '../kind.js';
import { parseOutboundMessage } from './events.js';
import { readRecord } from './read-back.js';
import { SalesforceRestClient } from './rest-client.js';
import { SalesforceSettings } from './settings.js';
import { acknowledgement, soapFault } from './soap.js';
import { verifyOutboundMessage } from './verify.js';
import { writeAccountResult } from './write-back.js';

/**
 * Salesforce as a source (docs/sources.md "Salesforce"): outbound messages (SOAP, up to 100
 * notifications each) sent by a workflow rule or a Flow on an Opportunity won or an Account,
 * authenticated by the organization id they carry (and optionally a token in the URL); records
 * read back and results written to the Account through the REST API with an OAuth 2.0 client
 * credentials token.
 */

export const salesforceKind: SourceKind<SalesforceSettings> = {
  kind: 'salesforce',
  settingsSchema: SalesforceSettings,
  secretNames: (settings) => [
    settings.client_id_env,
    settings.client_secret_env,
    ...(settings.url_token_env ? [settings.url_token_env] : []),
  ],
  /**
   * Salesforce resends a message until it reads `<Ack>true</Ack>`, for up to 24 hours, whatever
   * else it gets; a SOAP 1.1 fault goes with 500, as SOAP 1.1 asks, except a refusal (401).
   */
  answers: { accepted: 200, unauthenticated: 401, unreadable: 500 },
  answerBody: (outcome, reason) => ({
    contentType: 'text/xml; charset=utf-8',
    body:
      outcome === 'accepted'
        ? acknowledgement()
        : outcome === 'unavailable'
          ? soapFault('Server', reason)
          : // A refused sender learns only that it was refused.
            soapFault('Client', outcome === 'unauthenticated' ? 'not authenticated' : reason),
  }),

  // Nothing to check before the body: the organization id is in it.
  checkHeaders: () => ({ ok: true }),
  verify: async (delivery, ctx) => verifyOutboundMessage(delivery, ctx),
  parse: (delivery) => parseOutboundMessage(delivery.rawBody),
  readBack: (event, ctx) => readRecord(new SalesforceRestClient(ctx), ctx.settings, event),

  writeBack: async (target, result, ctx) => {
    if (target.objectType !== 'account') {
      const endpoint = 'PATCH /services/data/vXX.X/sobjects/Account/{id}';
      throw new SourceApiError(
        ctx.source,
        endpoint,
        undefined,
        false,
        `cannot write a result to a ${target.objectType}`,
      );
    }
    const outcome = await writeAccountResult(new SalesforceRestClient(ctx), ctx.settings, target.objectId, result);
    ctx.logger.debug({ account: target.objectId, outcome }, 'salesforce write-back');
  },

  checkApi: async (ctx) => {
    await new SalesforceRestClient(ctx).limits();
  },
};
