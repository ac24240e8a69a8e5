import { createHash } from 'node:crypto';
import type { Delivery, ParsedBody, SourceEvent } from '../kind.js';
import type { GenericSettings } from './settings.js';

/**
 * A generic body: one customer object or a list of them, in the sender's own field names (the
 * source's mapping reads them). Each object is one event. Its id is the Standard Webhooks
 * `webhook-id` (stable across the sender's retries) with the object's place in the list, or,
 * for senders that give none, a hash of the object's own JSON, so a retry of the same body is
 * recorded once.
 */

/** More objects than this in one body is no sales system's event: refused, nothing recorded. */
export const MAX_OBJECTS = 1000;

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function parseGenericBody(delivery: Delivery, settings: GenericSettings): ParsedBody {
  let json: unknown;
  try {
    json = JSON.parse(delivery.rawBody.toString('utf8'));
  } catch (err) {
    return { ok: false, reason: `the body is not JSON: ${(err as Error).message}` };
  }
  const objects = Array.isArray(json) ? json : [json];
  if (objects.length === 0) return { ok: false, reason: 'the body is an empty list' };
  if (objects.length > MAX_OBJECTS) return { ok: false, reason: `the body lists more than ${MAX_OBJECTS} objects` };
  const bad = objects.findIndex((o) => !isObject(o));
  if (bad >= 0) return { ok: false, reason: `item ${bad} of the body is not a JSON object` };
  const header = delivery.headers['webhook-id'];
  const webhookId = Array.isArray(header) ? header[0] : header;
  const events = (objects as Record<string, unknown>[]).map((payload, index): SourceEvent => {
    const own = createHash('sha256').update(JSON.stringify(payload)).digest('hex').slice(0, 32);
    const id = payload[settings.object_id];
    return {
      eventId: webhookId !== undefined ? `${webhookId}#${index}` : `sha256:${own}`,
      type: typeof payload.type === 'string' ? payload.type : 'customer',
      objectType: 'customer',
      objectId: typeof id === 'string' || typeof id === 'number' ? String(id) : '',
      payload,
    };
  });
  return { ok: true, events };
}
