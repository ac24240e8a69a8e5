import type { ParsedBody, SourceEvent } from '../kind.js';
import { readOutboundMessage, type OutboundMessage, type ReadMessage } from './soap.js';

/**
 * From an outbound message to the intake's events (docs/sources.md "Salesforce", payloads): each
 * Notification is one event, its id the notification id, which Salesforce keeps across its
 * redeliveries; the event carries the sObject's chosen fields, never the session id.
 */

/** verify reads the body and parse needs it again: one parse per request, kept as long as the bytes are. */
const readOnce = new WeakMap<Buffer, ReadMessage>();

export function outboundMessageOf(rawBody: Buffer): ReadMessage {
  let read = readOnce.get(rawBody);
  if (!read) {
    read = readOutboundMessage(rawBody);
    readOnce.set(rawBody, read);
  }
  return read;
}

/** Salesforce ids are case-sensitive; the 18-character form is the 15 plus a case checksum. */
export function sameOrganization(given: string, configured: string): boolean {
  if (configured.length === 18) return given === configured;
  return given.length >= 15 && given.slice(0, 15) === configured;
}

function toEvent(message: OutboundMessage, index: number): SourceEvent {
  const notification = message.notifications[index]!;
  return {
    eventId: notification.id,
    type: notification.sObjectType,
    objectType: notification.sObjectType.toLowerCase(),
    objectId: notification.fields.Id as string,
    payload: {
      organizationId: message.organizationId,
      actionId: message.actionId,
      fields: notification.fields,
    },
  };
}

/** Every notification of the message as its own event. */
export function parseOutboundMessage(rawBody: Buffer): ParsedBody {
  const read = outboundMessageOf(rawBody);
  if (!read.ok) return read;
  return { ok: true, events: read.message.notifications.map((_n, i) => toEvent(read.message, i)) };
}
