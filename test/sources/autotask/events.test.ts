import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseCallout } from '../../../src/sources/autotask/events.js';
import { autotaskKind } from '../../../src/sources/autotask/kind.js';
import { parseSourceFile } from '../../../src/sources/source-file.js';

const fixture = (name: string) => readFileSync(new URL(`../../fixtures/sources/autotask/${name}`, import.meta.url));

describe('Autotask callouts', () => {
  it('reads the three sample callouts: type, object, a per-event id and the thin fields', () => {
    const create = parseCallout(fixture('callout-ticket-create.json'));
    expect(create).toEqual({
      ok: true,
      events: [
        {
          eventId: 'a1da62a4-2c49-40a8-8183-69994ce5b3eb/ticket/351181/1',
          type: 'ticket.create',
          objectType: 'ticket',
          objectId: '351181',
          payload: {
            action: 'Create',
            entityType: 'Ticket',
            fields: { TicketNumber: 'T20250915.0001' },
            eventTime: '2025-09-15T14:57:50Z',
            sequenceNumber: 1,
            personId: 30691780,
          },
        },
      ],
    });
    const update = parseCallout(fixture('callout-ticket-update.json'));
    expect(update).toMatchObject({
      ok: true,
      events: [{ type: 'ticket.update', payload: { fields: { Status: '5' } } }],
    });
    const remove = parseCallout(fixture('callout-ticket-delete.json'));
    expect(remove).toMatchObject({
      ok: true,
      events: [{ type: 'ticket.delete', objectId: '351181', payload: { fields: {} } }],
    });
  });

  it('a company is a company whether Autotask names it by its REST name or its SOAP one', () => {
    const callout = (entityType: string) =>
      Buffer.from(
        JSON.stringify({ Action: 'Update', Guid: 'g', EntityType: entityType, Id: 7, Fields: {}, SequenceNumber: 3 }),
      );
    expect(parseCallout(callout('Company'))).toMatchObject({
      events: [{ type: 'company.update', objectType: 'company' }],
    });
    expect(parseCallout(callout('Account'))).toMatchObject({
      events: [{ type: 'company.update', objectType: 'company' }],
    });
  });

  it('without a sequence number, the bytes are the id (Autotask resends the same payload)', () => {
    const body = Buffer.from(JSON.stringify({ Action: 'Update', Guid: 'g', EntityType: 'Company', Id: 7 }));
    const [event] = (parseCallout(body) as { events: Array<{ eventId: string }> }).events;
    expect(event?.eventId).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('not JSON, or no Guid, is unreadable with the reason', () => {
    expect(parseCallout(Buffer.from('Action=Update'))).toEqual({ ok: false, reason: 'the callout body is not JSON' });
    const noGuid = Buffer.from(JSON.stringify({ Action: 'Update', EntityType: 'Company', Id: 7 }));
    expect(parseCallout(noGuid)).toMatchObject({ ok: false, reason: expect.stringContaining('Guid') });
  });

  it('examples/sources/autotask.json is a valid source', () => {
    const example = JSON.parse(
      readFileSync(new URL('../../../examples/sources/autotask.json', import.meta.url), 'utf8'),
    );
    const source = parseSourceFile('autotask', example, 'examples/sources/autotask.json');
    expect(source.kind).toBe('autotask');
    expect(source.settings).toMatchObject({ write_back: { mode: 'udf' }, api: { timeout_ms: 15000 } });
  });

  it('a SecretKey Autotask would not take (under 10 or over 64 characters) stops the start naming the variable', () => {
    const example = JSON.parse(
      readFileSync(new URL('../../../examples/sources/autotask.json', import.meta.url), 'utf8'),
    );
    const { settings } = parseSourceFile('autotask', example, 'examples/sources/autotask.json');
    const check = (key: string) => autotaskKind.checkSecrets!(settings as never, { AUTOTASK_WEBHOOK_SECRET: key });
    expect(check('short')).toContain('AUTOTASK_WEBHOOK_SECRET');
    expect(check('x'.repeat(65))).toContain('10 to 64');
    expect(check('a-good-secret-key')).toBeUndefined();
  });
});
