import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { contactSchema } from '../../../src/sources/connectwise/api-schemas.js';
import { keyUrlOf, parseCallback } from '../../../src/sources/connectwise/callback.js';
import { fromResponse } from '../../../src/sources/connectwise/errors.js';
import { checkKeyUrl } from '../../../src/sources/connectwise/key-url.js';
import { contactFields } from '../../../src/sources/connectwise/record.js';

const sample = (name: string) => readFileSync(new URL(`../../fixtures/sources/connectwise/${name}`, import.meta.url));

describe('ConnectWise vendor samples (captured from a sandbox, unchanged)', () => {
  it('reads an added callback: MessageId as event id, the Entity string as the record', () => {
    const parsed = parseCallback(sample('callback-contact-added.json'));
    expect(parsed).toMatchObject({
      ok: true,
      events: [
        {
          eventId: 'fbed4425-b1f3-425c-8bca-bb405891fc8e',
          type: 'contact/added',
          objectType: 'contact',
          objectId: '57960',
          payload: {
            action: 'added',
            companyId: 'Cobalt',
            memberId: 'Aurasell',
            entity: { id: 57960, firstName: 'Lillie Keebler' },
          },
        },
      ],
    });
  });

  it('reads updated and deleted callbacks (Entity null on deleted)', () => {
    expect(parseCallback(sample('callback-contact-updated.json'))).toMatchObject({
      ok: true,
      events: [{ type: 'contact/updated', objectId: '57961' }],
    });
    expect(parseCallback(sample('callback-contact-deleted.json'))).toMatchObject({
      ok: true,
      events: [{ type: 'contact/deleted', objectId: '57962', payload: { entity: null } }],
    });
  });

  it('finds the key URL and holds it to the configured host', () => {
    const keyUrl = keyUrlOf(sample('callback-contact-updated.json'));
    expect(keyUrl).toBe(
      'https://sandbox-na.myconnectwise.net/v2025_1//system/callbackkey/index.rails?companyName=Cobalt&id=e17e6674-42f6-4105-9cff-4cd6cb4e62e8',
    );
    expect(checkKeyUrl(keyUrl, { host: 'sandbox-na.myconnectwise.net', allowInsecureTestHost: false })).toMatchObject({
      ok: true,
    });
    expect(checkKeyUrl(keyUrl, { host: 'api-na.myconnectwise.net', allowInsecureTestHost: false })).toMatchObject({
      ok: false,
    });
    // The library's placeholder is not a URL: refused, not fetched.
    expect(
      checkKeyUrl(keyUrlOf(sample('callback-contact-added.json')), {
        host: 'sandbox-na.myconnectwise.net',
        allowInsecureTestHost: false,
      }),
    ).toMatchObject({ ok: false });
  });

  it('refuses bodies that are not a callback, naming the field', () => {
    expect(parseCallback(Buffer.from('not json'))).toEqual({ ok: false, reason: 'the callback body is not JSON' });
    const noAction = JSON.parse(sample('callback-contact-updated.json').toString('utf8'));
    delete noAction.Action;
    expect(parseCallback(Buffer.from(JSON.stringify(noAction)))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('Action'),
    });
    const badAction = { ...JSON.parse(sample('callback-contact-updated.json').toString('utf8')), Action: 'merged' };
    expect(parseCallback(Buffer.from(JSON.stringify(badAction)))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('Action'),
    });
  });

  it('reads a contact’s default e-mail from its communication items', () => {
    const [emma] = z.array(contactSchema).parse(JSON.parse(sample('contact-emma-diaz.json').toString('utf8')));
    expect(contactFields(emma ?? null)).toMatchObject({
      'contact.firstName': 'Emma',
      'contact.lastName': 'Diaz',
      'contact.email': 'emma@test.com',
      'contact.phone': '+166155555',
    });
    const [jorge] = z.array(contactSchema).parse(JSON.parse(sample('contact-jorge-smith.json').toString('utf8')));
    expect(contactFields(jorge ?? null)).toMatchObject({
      'contact.firstName': 'Jorge',
      'contact.email': null,
      'contact.phone': '+13344455',
    });
  });

  it('turns ConnectWise error bodies into reasons a person can act on', () => {
    const notFound = fromResponse(
      'cw',
      'GET /company/companies/{id}',
      404,
      undefined,
      sample('error-not-found.json').toString('utf8'),
    );
    expect(notFound).toMatchObject({ retryable: false, status: 404 });
    expect(notFound.message).toContain('The endpoint does not exist.');
    const invalid = fromResponse(
      'cw',
      'POST /company/companies/{id}/notes',
      400,
      undefined,
      sample('error-invalid-object.json').toString('utf8'),
    );
    expect(invalid.retryable).toBe(false);
    expect(invalid.message).toContain('The firstName field is required.');
    expect(fromResponse('cw', 'x', 429, '7', '')).toMatchObject({ retryable: true, retryAfterSec: 7 });
    expect(fromResponse('cw', 'x', 503, undefined, '')).toMatchObject({ retryable: true });
    expect(fromResponse('cw', 'x', 502, undefined, '')).toMatchObject({ retryable: true });
    expect(fromResponse('cw', 'x', 401, undefined, '')).toMatchObject({ retryable: false });
  });
});
