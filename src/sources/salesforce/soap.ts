import { XMLParser } from 'fast-xml-parser';

/**
 * Salesforce outbound messages as SOAP 1.1 XML (docs/sources.md "Salesforce"): the `notifications`
 * element of the namespace `http://soap.sforce.com/2005/09/outbound` with the organization id and
 * up to 100 `Notification {Id, sObject}`, and the two answers Salesforce reads, the
 * acknowledgement and a SOAP fault. A body declaring a DOCTYPE or an entity is refused before any
 * parsing, and the parser never expands entities, so neither "billion laughs" nor an external
 * entity can cost more than reading the bytes once.
 */

export const OUTBOUND_NS = 'http://soap.sforce.com/2005/09/outbound';
export const SOAP_ENV_NS = 'http://schemas.xmlsoap.org/soap/envelope/';
export const MAX_NOTIFICATIONS = 100;
/** No Salesforce field value comes near this; a longer one is a body not from Salesforce. */
const MAX_FIELD_CHARS = 131_072;

export interface OutboundNotification {
  /** The notification id (`04l…`): the same on every redelivery of this notification. */
  id: string;
  /** The sObject's type, `Opportunity`, `Account`, `Custom__c`, from its `xsi:type`. */
  sObjectType: string;
  /** The sObject's fields the admin chose, by API name (`Id`, `StageName`, …), as text. */
  fields: Record<string, string | null>;
}

export interface OutboundMessage {
  organizationId: string;
  actionId: string;
  /** Present only when the outbound message is set to "Send Session ID"; never stored. */
  sessionId: string | null;
  enterpriseUrl: string;
  partnerUrl: string;
  notifications: OutboundNotification[];
}

export type ReadMessage = { ok: true; message: OutboundMessage } | { ok: false; reason: string };

/** A DOCTYPE or an entity declaration anywhere: Salesforce never sends one, and it is how XML bombs start. */
const DECLARATION = /<!\s*(DOCTYPE|ENTITY)/i;

const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The five predefined entities and character references, the only ones XML has without a DTD; never grows a value. */
export function decodeXmlText(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|lt|gt|amp|quot|apos);/gi, (whole, name: string) => {
    if (name[0] !== '#') return PREDEFINED[name.toLowerCase()] ?? whole;
    const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}

const parser = new XMLParser({
  // fast-xml-parser's own entity handling stays off (no DOCTYPE entities, no HTML entities).
  processEntities: false,
  htmlEntities: false,
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  tagValueProcessor: (_name, value) => decodeXmlText(value),
  attributeValueProcessor: (_name, value) => decodeXmlText(value),
  isArray: (name) => localName(name) === 'Notification',
});

type Node = Record<string, unknown>;

function localName(name: string): string {
  const colon = name.indexOf(':');
  return colon === -1 ? name : name.slice(colon + 1);
}

/** The child of `node` whose local name is `name`, whatever prefix it carries. */
function child(node: unknown, name: string): unknown {
  if (!node || typeof node !== 'object') return undefined;
  for (const [key, value] of Object.entries(node as Node)) {
    if (!key.startsWith('@') && localName(key) === name) return value;
  }
  return undefined;
}

/** An element's text: a string, or `{#text}` when it has attributes; `xsi:nil` is null. */
function text(node: unknown): string | null {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object') {
    const attrs = node as Node;
    if (Object.entries(attrs).some(([k, v]) => localName(k) === 'nil' && v === 'true')) return null;
    const inner = attrs['#text'];
    return typeof inner === 'string' ? inner : '';
  }
  return null;
}

function attribute(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  for (const [key, value] of Object.entries(node as Node)) {
    if (key.startsWith('@') && localName(key.slice(1)) === name && typeof value === 'string') return value;
  }
  return undefined;
}

/** `xmlns` or `xmlns:p` of the element, for the namespace its own name is in. */
function namespaceOf(key: string, node: unknown): string | undefined {
  const colon = key.indexOf(':');
  return attribute(node, colon === -1 ? 'xmlns' : key.slice(0, colon)) ?? attribute(node, 'xmlns');
}

function readNotification(node: unknown, index: number): OutboundNotification | string {
  const id = text(child(node, 'Id'));
  const sObject = child(node, 'sObject');
  if (!id || !/^[a-zA-Z0-9]{15,18}$/.test(id)) return `Notification ${index + 1} has no valid Id`;
  if (!sObject || typeof sObject !== 'object') return `Notification ${index + 1} has no sObject`;
  const type = attribute(sObject, 'type');
  const fields: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(sObject as Node)) {
    if (key.startsWith('@') || key === '#text') continue;
    const fieldText = Array.isArray(value) ? text(value[0]) : text(value);
    if (fieldText !== null && fieldText.length > MAX_FIELD_CHARS)
      return `Notification ${index + 1}: a field is too long`;
    fields[localName(key)] = fieldText;
  }
  const objectId = fields.Id;
  if (!objectId || !/^[a-zA-Z0-9]{15,18}$/.test(objectId)) return `Notification ${index + 1}: its sObject has no Id`;
  return { id, sObjectType: type ? localName(type) : 'sObject', fields };
}

function notificationsElement(document: unknown): { key: string; node: unknown } | undefined {
  const envelopeKey = Object.keys((document as Node) ?? {}).find((k) => localName(k) === 'Envelope');
  if (!envelopeKey) return undefined;
  const envelope = (document as Node)[envelopeKey];
  if (namespaceOf(envelopeKey, envelope) !== SOAP_ENV_NS) return undefined;
  const body = child(envelope, 'Body');
  if (!body || typeof body !== 'object') return undefined;
  const key = Object.keys(body as Node).find((k) => localName(k) === 'notifications');
  return key ? { key, node: (body as Node)[key] } : undefined;
}

const CLAIMED_ORGANIZATION = /<(?:[A-Za-z_][\w.-]*:)?OrganizationId>\s*([A-Za-z0-9.]{1,40})\s*<\//;
const NOTIFICATION_TAG = /<(?:[A-Za-z_][\w.-]*:)?Notification[\s>]/g;
/**
 * Salesforce puts a few attributes on each notification (`xsi:type`, `xmlns:sf`, `xsi:nil`) and one
 * element per field: bounds above 100 notifications of 250 fields each, and below what makes the
 * parser slow (60,000 attributes on one element cost it over half a second).
 */
const MAX_ATTRIBUTES = 2_000;
const MAX_TAGS = 60_000;

function tooMuchMarkup(xml: string): string | undefined {
  const attributes = xml.match(/=\s*["']/g)?.length ?? 0;
  if (attributes > MAX_ATTRIBUTES) return `the body has ${attributes} attributes, no outbound message has`;
  const tags = xml.match(/</g)?.length ?? 0;
  return tags > MAX_TAGS ? `the body has ${tags} tags, no outbound message has` : undefined;
}

/**
 * The organization id the body claims, found without parsing it: a body from another org (or
 * naming none) is refused before the parser spends up to a few hundred ms on a crafted 1 MiB.
 */
export function claimedOrganization(rawBody: Buffer): string | undefined {
  return CLAIMED_ORGANIZATION.exec(rawBody.toString('utf8'))?.[1];
}

/** The outbound message in the raw bytes, or why it is not one; never throws. */
export function readOutboundMessage(rawBody: Buffer): ReadMessage {
  const xml = rawBody.toString('utf8');
  if (DECLARATION.test(xml)) return { ok: false, reason: 'the body declares a DOCTYPE or an entity' };
  const count = xml.match(NOTIFICATION_TAG)?.length ?? 0;
  if (count > MAX_NOTIFICATIONS) {
    return { ok: false, reason: `the outbound message has ${count} notifications, over Salesforce's 100` };
  }
  const markup = tooMuchMarkup(xml);
  if (markup) return { ok: false, reason: markup };
  let document: unknown;
  try {
    document = parser.parse(xml);
  } catch (err) {
    return { ok: false, reason: `the body is not XML: ${(err as Error).message.slice(0, 200)}` };
  }
  const found = notificationsElement(document);
  if (!found || namespaceOf(found.key, found.node) !== OUTBOUND_NS) {
    return { ok: false, reason: `not a Salesforce outbound message (no SOAP Body with ${OUTBOUND_NS} notifications)` };
  }
  const { node } = found;
  const organizationId = text(child(node, 'OrganizationId')) ?? '';
  if (!organizationId) return { ok: false, reason: 'the outbound message has no OrganizationId' };
  const list = child(node, 'Notification');
  const items = Array.isArray(list) ? list : [];
  if (items.length === 0) return { ok: false, reason: 'the outbound message has no Notification' };
  if (items.length > MAX_NOTIFICATIONS) {
    return { ok: false, reason: `the outbound message has ${items.length} notifications, over Salesforce's 100` };
  }
  const notifications: OutboundNotification[] = [];
  for (const [index, item] of items.entries()) {
    const read = readNotification(item, index);
    if (typeof read === 'string') return { ok: false, reason: read };
    notifications.push(read);
  }
  return {
    ok: true,
    message: {
      organizationId,
      actionId: text(child(node, 'ActionId')) ?? '',
      sessionId: text(child(node, 'SessionId')),
      enterpriseUrl: text(child(node, 'EnterpriseUrl')) ?? '',
      partnerUrl: text(child(node, 'PartnerUrl')) ?? '',
      notifications,
    },
  };
}

function escapeXml(value: string): string {
  return value.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
  );
}

/** The acknowledgement Salesforce waits for; anything else and it sends the message again for 24 hours. */
export function acknowledgement(): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}">` +
    `<soapenv:Body><notificationsResponse xmlns="${OUTBOUND_NS}"><Ack>true</Ack></notificationsResponse>` +
    `</soapenv:Body></soapenv:Envelope>`
  );
}

/** A SOAP 1.1 fault: `Client` when the message itself is refused, `Server` when we cannot take it now. */
export function soapFault(code: 'Client' | 'Server', reason: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<soapenv:Envelope xmlns:soapenv="${SOAP_ENV_NS}">` +
    `<soapenv:Body><soapenv:Fault><faultcode>soapenv:${code}</faultcode>` +
    `<faultstring>${escapeXml(reason.slice(0, 500))}</faultstring></soapenv:Fault>` +
    `</soapenv:Body></soapenv:Envelope>`
  );
}
