import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { sameSecret } from '../../../src/sources/basic-credentials.js';
import { checkBasicAuth } from '../../../src/sources/pipedrive/authenticate.js';
import { parseWebhook } from '../../../src/sources/pipedrive/events.js';
import { parseSourceFile } from '../../../src/sources/source-file.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/sources/pipedrive/${name}`, import.meta.url));
const basic = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });

describe('Pipedrive webhook credentials (HTTP Basic, no signature)', () => {
  it('the right user and password pass; a wrong password, a wrong user, none or another scheme do not', () => {
    expect(checkBasicAuth(basic('onboard:s3cret'), 'onboard', 's3cret')).toEqual({ ok: true });
    expect(checkBasicAuth(basic('onboard:s3cretx'), 'onboard', 's3cret')).toMatchObject({
      ok: false,
      reason: 'wrong user or password',
    });
    expect(checkBasicAuth(basic('other:s3cret'), 'onboard', 's3cret')).toMatchObject({ ok: false });
    expect(checkBasicAuth({}, 'onboard', 's3cret')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('missing'),
    });
    expect(checkBasicAuth({ authorization: 'Bearer s3cret' }, 'onboard', 's3cret')).toMatchObject({ ok: false });
  });

  it('an empty password configured lets nobody in, even a request with an empty password', () => {
    expect(checkBasicAuth(basic('onboard:'), 'onboard', '')).toMatchObject({ ok: false });
  });

  it('credentials of any length are compared as equal-length digests (timingSafeEqual never throws)', () => {
    expect(sameSecret('a', 'a much longer expected secret')).toBe(false);
    expect(sameSecret('x'.repeat(10_000), 'x')).toBe(false);
    expect(sameSecret('same', 'same')).toBe(true);
  });
});

describe('Pipedrive webhooks v2 bodies (the samples of Pipedrive’s migration guide)', () => {
  it('"Create deal": meta.id is the event id, the type is action.entity', () => {
    expect(parseWebhook(fixture('create-deal.json'))).toMatchObject({
      ok: true,
      events: [
        {
          eventId: '71825ee0-0054-4267-b5fd-d28b7a414212',
          type: 'create.deal',
          objectType: 'deal',
          objectId: '8',
          payload: { action: 'create', attempt: 1, previous: null, data: { org_id: 1, person_id: 8, status: 'open' } },
        },
      ],
    });
  });

  it('"Update deal" and "Update organization": previous holds only what changed', () => {
    expect(parseWebhook(fixture('update-deal.json'))).toMatchObject({
      events: [
        {
          type: 'change.deal',
          payload: { previous: { custom_fields: { '3d0fa3429dfa2d3dec265b4fc5dc8258ab66cdf3': null } } },
        },
      ],
    });
    expect(parseWebhook(fixture('update-organization.json'))).toMatchObject({
      events: [{ eventId: 'ea17c64f-ec7e-4e47-a321-5d84b7735fef', type: 'change.organization', objectId: '1' }],
    });
  });

  it('a v1 body (current, no meta.id) or not JSON is unreadable with the reason', () => {
    const v1 = { v: 1, meta: { v: 1, action: 'updated', object: 'deal', id: 8 }, current: {}, previous: {} };
    expect(parseWebhook(Buffer.from(JSON.stringify(v1)))).toMatchObject({
      ok: false,
      reason: expect.stringContaining('meta'),
    });
    expect(parseWebhook(Buffer.from('not json'))).toEqual({ ok: false, reason: 'the webhook body is not JSON' });
  });

  it('examples/sources/pipedrive.json is a valid source', () => {
    const example = JSON.parse(
      readFileSync(new URL('../../../examples/sources/pipedrive.json', import.meta.url), 'utf8'),
    );
    const source = parseSourceFile('pipedrive', example, 'examples/sources/pipedrive.json');
    expect(source.kind).toBe('pipedrive');
    expect(source.settings).toMatchObject({ read_products: true, write_back: { mode: 'note' } });
  });
});
