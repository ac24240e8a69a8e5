import { createHash, timingSafeEqual } from 'node:crypto';
import type { Delivery, KindContext, Verdict } from '../kind.js';
import { outboundMessageOf, sameOrganization } from './events.js';
import type { SalesforceSettings } from './settings.js';
import { claimedOrganization } from './soap.js';

/**
 * What authenticates an outbound message (docs/sources.md "Salesforce", authentication):
 * Salesforce signs nothing, so the message must name our organization id, and, when the source
 * sets `url_token_env`, the URL Salesforce called must carry that token. The address allow-list
 * and mutual TLS Salesforce also documents are the proxy's in front of us.
 */

function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function checkUrlToken(delivery: Delivery, ctx: KindContext<SalesforceSettings>): Verdict {
  const name = ctx.settings.url_token_env;
  if (!name) return { ok: true };
  const expected = ctx.secrets[name];
  if (!expected) return { ok: false, reason: `${name} is empty` };
  let given: string | null = null;
  try {
    given = new URL(delivery.signedUrl).searchParams.get('token');
  } catch {
    given = null;
  }
  if (given === null) return { ok: false, reason: 'the URL carries no token' };
  return sameSecret(given, expected) ? { ok: true } : { ok: false, reason: 'the URL token does not match' };
}

export function verifyOutboundMessage(delivery: Delivery, ctx: KindContext<SalesforceSettings>): Verdict {
  const token = checkUrlToken(delivery, ctx);
  if (!token.ok) return token;
  const claimed = claimedOrganization(delivery.rawBody);
  if (claimed === undefined) return { ok: false, reason: 'the body names no OrganizationId' };
  if (!sameOrganization(claimed, ctx.settings.organization_id)) {
    return { ok: false, reason: `the message is from organization ${claimed}, not ours` };
  }
  const read = outboundMessageOf(delivery.rawBody);
  // A body that is not an outbound message names no organization: nothing vouches for it.
  if (!read.ok) return { ok: false, reason: read.reason };
  const { organizationId } = read.message;
  if (!sameOrganization(organizationId, ctx.settings.organization_id)) {
    return { ok: false, reason: `the message is from organization ${organizationId.slice(0, 18)}, not ours` };
  }
  return { ok: true };
}
