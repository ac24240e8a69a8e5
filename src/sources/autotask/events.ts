import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ParsedBody } from '../kind.js';

/**
 * An Autotask webhook callout: `{Action, Guid, EntityType, Id, Fields, EventTime, SequenceNumber,
 * PersonID}`, where `Fields` holds only the webhook's subscribed and "display always" fields
 * (test/fixtures/sources/autotask/README.md says where the shape is from).
 */
export const calloutSchema = z
  .object({
    Action: z.string().min(1).max(20),
    Guid: z.string().min(1).max(100),
    EntityType: z.string().min(1).max(100),
    Id: z.union([z.number().int(), z.string().regex(/^\d{1,18}$/)]),
    Fields: z.record(z.string(), z.unknown()).nullish(),
    EventTime: z.string().max(64).nullish(),
    SequenceNumber: z.number().int().nullish(),
    // Autotask's samples spell it PersonID, some receivers PersonId.
    PersonID: z.number().int().nullish(),
    PersonId: z.number().int().nullish(),
  })
  .loose();
export type AutotaskCallout = z.output<typeof calloutSchema>;

/** The SOAP name of a company is Account; the REST one Company: both are a company here. */
export function objectTypeOf(entityType: string): string {
  const lower = entityType.toLowerCase();
  return lower === 'account' || lower === 'companies' ? 'company' : lower === 'contacts' ? 'contact' : lower;
}

export function parseCallout(rawBody: Buffer): ParsedBody {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the callout body is not JSON' };
  }
  const parsed = calloutSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `the callout's ${issue?.path.join('.') || 'body'} is invalid: ${issue?.message}` };
  }
  const callout = parsed.data;
  const objectType = objectTypeOf(callout.EntityType);
  const id = String(callout.Id);
  // Autotask resends the same payload when it retries; the sequence number tells one event from the next.
  const eventId =
    callout.SequenceNumber != null
      ? `${callout.Guid}/${objectType}/${id}/${callout.SequenceNumber}`
      : `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
  return {
    ok: true,
    events: [
      {
        eventId,
        type: `${objectType}.${callout.Action.toLowerCase()}`,
        objectType,
        objectId: id,
        payload: {
          action: callout.Action,
          entityType: callout.EntityType,
          fields: callout.Fields ?? {},
          eventTime: callout.EventTime ?? null,
          sequenceNumber: callout.SequenceNumber ?? null,
          personId: callout.PersonID ?? callout.PersonId ?? null,
        },
      },
    ],
  };
}
