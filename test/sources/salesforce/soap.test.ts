import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { outboundMessageXml, type QueuedNotification } from '../../../src/simulator/salesforce/outbound-sender.js';
import { parseOutboundMessage } from '../../../src/sources/salesforce/events.js';
import { salesforceKind } from '../../../src/sources/salesforce/kind.js';
import { acknowledgement, readOutboundMessage, soapFault } from '../../../src/sources/salesforce/soap.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/sources/salesforce/${name}`, import.meta.url));
const ORG = '00D5e000000KQ2eEAG';

function notification(i: number, fields: Record<string, string | number | boolean> = {}): QueuedNotification {
  return {
    id: `04l5e00000Gx${String(i).padStart(4, '0')}AA`,
    sObjectType: 'Opportunity',
    fields: { Id: `0065e00000Zk${String(i).padStart(4, '0')}AA`, Name: `Deal ${i}`, IsWon: true, ...fields },
  };
}
const message = (count: number) =>
  Buffer.from(
    outboundMessageXml(
      { targetUrl: '', organizationId: ORG },
      Array.from({ length: count }, (_, i) => notification(i)),
    ),
  );

describe('Salesforce outbound messages: the published samples', () => {
  it('reads the captured message: one notification, its id, the custom object type and every chosen field', () => {
    const read = readOutboundMessage(fixture('outbound-message-captured.xml'));
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(read.message).toMatchObject({
      organizationId: '00DR......',
      actionId: '04kR00000004CCXIA2',
      sessionId: null,
      partnerUrl: 'https://cs2-api.salesforce.com/services/Soap/u/8.0/4e1300DR00000000XcD',
    });
    expect(read.message.notifications).toEqual([
      {
        id: '04lR0000000CcIFIA0',
        sObjectType: 'Design_Registration__c',
        fields: {
          Id: 'a06R00000009QZaIAM',
          BU_Reviewer_Lookup__c: '00540000000lnc2AAA',
          DP_cust_eng_email__c: 'me@email.com',
          DP_reg_id__c: 'JXD08-7CLLB7',
          DR_Number__c: 'R080500453',
          Field_reviewer_lookup__c: '00540000000yHbGAAU',
          Name: 'URT',
          OwnerId: '00540000000mBqsAAE',
        },
      },
    ]);
    const parsed = parseOutboundMessage(fixture('outbound-message-captured.xml'));
    expect(parsed.ok && parsed.events[0]).toMatchObject({
      eventId: '04lR0000000CcIFIA0',
      type: 'Design_Registration__c',
      objectType: 'design_registration__c',
      objectId: 'a06R00000009QZaIAM',
    });
  });

  it("refuses the WSDL page's schema itself: it is not a message", () => {
    expect(readOutboundMessage(fixture('wsdl-notifications-schema.xml'))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('not a Salesforce outbound message') as string,
    });
  });

  it('answers the acknowledgement the response schema describes, the same document as the sample', () => {
    const parser = new XMLParser({ ignoreAttributes: false });
    expect(parser.parse(acknowledgement())).toMatchObject(
      parser.parse(fixture('acknowledgement.xml').toString()) as object,
    );
    expect(parser.parse(fixture('wsdl-notifications-response-schema.xml').toString())).toMatchObject({
      element: { '@_name': 'notificationsResponse', complexType: { sequence: { element: { '@_name': 'Ack' } } } },
    });
  });
});

describe('Salesforce outbound messages: what else arrives', () => {
  it('a batch of 100 is 100 events, each with its own notification id', () => {
    const parsed = parseOutboundMessage(message(100));
    expect(parsed.ok && parsed.events.length).toBe(100);
    expect(parsed.ok && new Set(parsed.events.map((e) => e.eventId)).size).toBe(100);
  });

  it('101 notifications are refused', () => {
    expect(readOutboundMessage(message(101))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('101') as string,
    });
  });

  it('the predefined entities and character references are decoded, nothing else', () => {
    const xml = outboundMessageXml({ targetUrl: '', organizationId: ORG }, [
      notification(1, { Name: 'Müller & Söhne <GmbH>' }),
    ]);
    const read = readOutboundMessage(
      Buffer.from(xml.replace('<sf:Name>', '<sf:Description>&foo; &#x41;</sf:Description><sf:Name>')),
    );
    expect(read.ok && read.message.notifications[0]!.fields).toMatchObject({
      Name: 'Müller & Söhne <GmbH>',
      Description: '&foo; A',
    });
  });

  it('a DOCTYPE, the billion-laughs shape and an external entity are refused, nothing expanded', () => {
    const envelope = (inner: string) =>
      `<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>${inner}</OrganizationId></notifications></soapenv:Body></soapenv:Envelope>`;
    const laughs =
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">' +
      Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i || ''};`.repeat(10)}">`).join('') +
      ']>' +
      envelope('&lol9;');
    const external = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>${envelope('&xxe;')}`;
    const parameter = `<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x.dtd"> %p;]>${envelope(ORG)}`;
    for (const body of [laughs, external, parameter, `<!doctype x>${envelope(ORG)}`]) {
      expect(readOutboundMessage(Buffer.from(body))).toEqual({
        ok: false,
        reason: 'the body declares a DOCTYPE or an entity',
      });
    }
  });

  it('markup no outbound message has (60,000 attributes, 340,000 nested tags) is refused before it is parsed', () => {
    const attributes = `<a ${Array.from({ length: 60_000 }, (_, i) => `x${i}="1"`).join(' ')}/>`;
    expect(readOutboundMessage(Buffer.from(attributes))).toEqual({
      ok: false,
      reason: 'the body has 60000 attributes, no outbound message has',
    });
    const nested = `${'<a>'.repeat(170_000)}${'</a>'.repeat(170_000)}`;
    expect(readOutboundMessage(Buffer.from(nested))).toEqual({
      ok: false,
      reason: 'the body has 340000 tags, no outbound message has',
    });
  });

  it('an entity reference without a declaration stays as written', () => {
    const xml = outboundMessageXml({ targetUrl: '', organizationId: ORG }, [notification(1)]).replace(
      '<sf:Name>Deal 1',
      '<sf:Name>&lol9;',
    );
    const read = readOutboundMessage(Buffer.from(xml));
    expect(read.ok && read.message.notifications[0]!.fields.Name).toBe('&lol9;');
  });

  it('SOAP that is not an outbound message, a foreign namespace, no notification and not XML are refused', () => {
    const other = message(1).toString();
    for (const body of [
      other.replace('http://soap.sforce.com/2005/09/outbound', 'http://soap.sforce.com/2005/09/inbound'),
      other.replace('http://schemas.xmlsoap.org/soap/envelope/', 'http://example.test/envelope'),
      other.replace(/<Notification>.*<\/Notification>/s, ''),
      '{"OrganizationId": "00D"}',
      '<a><b></a>',
      acknowledgement(),
    ]) {
      expect(readOutboundMessage(Buffer.from(body)).ok).toBe(false);
    }
  });

  it('a fault escapes its reason', () => {
    expect(soapFault('Client', 'a <b> & c')).toContain('<faultstring>a &lt;b&gt; &amp; c</faultstring>');
  });
});

describe('Salesforce answers (salesforceKind.answerBody)', () => {
  it('the acknowledgement when recorded, a Client fault that names nothing when refused, a Server fault when Redis is down', () => {
    const answer = (outcome: 'accepted' | 'unauthenticated' | 'unreadable' | 'unavailable', reason: string) =>
      salesforceKind.answerBody!(outcome, reason);
    expect(answer('accepted', '')).toEqual({ contentType: 'text/xml; charset=utf-8', body: acknowledgement() });
    expect(answer('unauthenticated', 'the message is from organization 00Dx, not ours').body).toContain(
      '<faultcode>soapenv:Client</faultcode><faultstring>not authenticated</faultstring>',
    );
    expect(answer('unavailable', 'Redis is unavailable').body).toContain('<faultcode>soapenv:Server</faultcode>');
    expect(salesforceKind.answers).toEqual({ accepted: 200, unauthenticated: 401, unreadable: 500 });
  });
});
