import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseHubSpotBody } from '../../../src/sources/hubspot/events.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/sources/hubspot/${name}`, import.meta.url));

describe('HubSpot bodies: the documentation samples', () => {
  it('reads the Webhooks page example batch (eventType, not subscriptionType) as two events', () => {
    const parsed = parseHubSpotBody(fixture('webhooks-api-batch.json'));
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(
      parsed.events.map(({ eventId, type, objectType, objectId }) => ({ eventId, type, objectType, objectId })),
    ).toEqual([
      { eventId: '25-3816279340', type: 'contact.propertyChange', objectType: 'contact', objectId: '1246965' },
      { eventId: '22-3816279480', type: 'contact.creation', objectType: 'contact', objectId: '1246978' },
    ]);
    expect(parsed.events[0]!.payload).toMatchObject({
      propertyName: 'lifecyclestage',
      propertyValue: 'subscriber',
      portalId: '33',
    });
  });

  it('reads the "Validating requests" v1 example body, changeFlag kept', () => {
    const parsed = parseHubSpotBody(fixture('validating-requests-v1-body.json'));
    expect(parsed.ok && parsed.events[0]).toMatchObject({
      eventId: '12345-1',
      type: 'contact.creation',
      objectId: '123',
      payload: { changeFlag: 'NEW', attemptNumber: 0 },
    });
  });
});

describe('HubSpot bodies: what else arrives', () => {
  const event = (extra: Record<string, unknown>) => ({
    eventId: 100,
    subscriptionId: 7,
    portalId: 62515,
    appId: 1,
    occurredAt: 1700000000000,
    subscriptionType: 'deal.propertyChange',
    attemptNumber: 0,
    objectId: 555,
    propertyName: 'dealstage',
    propertyValue: 'closedwon',
    changeSource: 'CRM',
    ...extra,
  });
  const body = (value: unknown) => Buffer.from(JSON.stringify(value));

  it('a retry of an event keeps its event id, whatever its attemptNumber', () => {
    const first = parseHubSpotBody(body([event({})]));
    const retry = parseHubSpotBody(body([event({ attemptNumber: 3 })]));
    expect(first.ok && retry.ok && first.events[0]!.eventId === retry.events[0]!.eventId).toBe(true);
  });

  it('a generic object.* event takes its type from objectTypeId (0-3 is a deal)', () => {
    const parsed = parseHubSpotBody(body([event({ subscriptionType: 'object.propertyChange', objectTypeId: '0-3' })]));
    expect(parsed.ok && parsed.events[0]!.objectType).toBe('deal');
  });

  it('an event type nobody subscribes us to is read as an event (the trigger ignores it), not a crash', () => {
    const parsed = parseHubSpotBody(body([event({ subscriptionType: 'conversation.newMessage' })]));
    expect(parsed.ok && parsed.events[0]).toMatchObject({
      type: 'conversation.newMessage',
      objectType: 'conversation',
    });
  });

  it('malformed bodies get a reason naming what is wrong', () => {
    expect(parseHubSpotBody(Buffer.from('{not json'))).toEqual({ ok: false, reason: 'the body is not JSON' });
    expect(parseHubSpotBody(body([]))).toMatchObject({ ok: false, reason: expect.stringMatching(/batch/) });
    expect(parseHubSpotBody(body([event({ objectId: 'abc' })]))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/0\.objectId/),
    });
    expect(parseHubSpotBody(body([event({ subscriptionType: undefined })]))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/neither subscriptionType nor eventType/),
    });
    expect(parseHubSpotBody(body(Array.from({ length: 101 }, (_, i) => event({ eventId: i }))))).toMatchObject({
      ok: false,
    });
    expect(parseHubSpotBody(body({ properties: { dealname: 'x' } }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/no object id/),
    });
    expect(parseHubSpotBody(body('text'))).toMatchObject({ ok: false });
    expect(parseHubSpotBody(body(null))).toMatchObject({ ok: false });
  });

  it('a deal workflow body (legacy JSON) is one event for the deal, its properties flattened; a resend has the same id', () => {
    const workflow = body({
      portalId: 62515,
      dealId: 46789043,
      isDeleted: false,
      properties: {
        dealstage: { value: 'closedwon', timestamp: 1, source: 'CRM_UI', versions: [] },
        amount: { value: '19090' },
      },
    });
    const parsed = parseHubSpotBody(workflow);
    expect(parsed.ok && parsed.events[0]).toMatchObject({
      type: 'workflow',
      objectType: 'deal',
      objectId: '46789043',
      payload: { properties: { dealstage: 'closedwon', amount: '19090' } },
    });
    const again = parseHubSpotBody(workflow);
    expect(parsed.ok && again.ok && parsed.events[0]!.eventId === again.events[0]!.eventId).toBe(true);
  });

  it('a v3-shaped workflow body is read, its type from the source settings', () => {
    const v3 = body({ id: '9876', properties: { dealstage: 'closedwon', hs_object_id: '9876' } });
    expect(parseHubSpotBody(v3)).toMatchObject({ ok: true, events: [{ objectType: 'deal', objectId: '9876' }] });
    expect(parseHubSpotBody(v3, 'company')).toMatchObject({ ok: true, events: [{ objectType: 'company' }] });
  });
});
