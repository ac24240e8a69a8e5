import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ParsedBody, SourceEvent } from '../kind.js';

/**
 * A ConnectWise PSA callback body, as captured from a live instance
 * (test/fixtures/sources/connectwise/callback-*.json): the record travels as a JSON *string* in
 * `Entity` (null on `deleted`), the key to verify it behind `Metadata.key_url`.
 */
export const callbackSchema = z
  .object({
    MessageId: z.string().max(200).optional(),
    FromUrl: z.string().max(500).optional(),
    CompanyId: z.string().max(200),
    MemberId: z.string().max(200).optional(),
    Action: z.enum(['added', 'updated', 'deleted']),
    Type: z.string().min(1).max(100),
    ID: z.number().int().nonnegative(),
    Entity: z.string().nullish(),
    Metadata: z.object({ key_url: z.string().max(2048) }).passthrough(),
    CallbackObjectRecId: z.number().int().nullish(),
    ProductInstanceId: z.string().nullish(),
    PartnerId: z.string().nullish(),
  })
  .passthrough();
export type ConnectWiseCallback = z.infer<typeof callbackSchema>;

/** The `Metadata.key_url` of a body, before it is trusted for anything else (verify needs it first). */
export function keyUrlOf(rawBody: Buffer): unknown {
  try {
    const body: unknown = JSON.parse(rawBody.toString('utf8'));
    if (body && typeof body === 'object' && 'Metadata' in body) {
      const metadata = (body as { Metadata: unknown }).Metadata;
      if (metadata && typeof metadata === 'object' && 'key_url' in metadata)
        return (metadata as { key_url: unknown }).key_url;
    }
  } catch {
    // not JSON: no key URL
  }
  return undefined;
}

export function parseCallback(rawBody: Buffer): ParsedBody {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the callback body is not JSON' };
  }
  const parsed = callbackSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return {
      ok: false,
      reason: `the callback's ${issue?.path.join('.') || 'body'} is invalid: ${issue?.message ?? 'unreadable'}`,
    };
  }
  return { ok: true, events: [toEvent(parsed.data, rawBody)] };
}

function toEvent(callback: ConnectWiseCallback, rawBody: Buffer): SourceEvent {
  const objectType = callback.Type.toLowerCase();
  // ConnectWise resends the same body (same MessageId) when it retries; without an id, the bytes are the id.
  const eventId = callback.MessageId ?? `sha256:${createHash('sha256').update(rawBody).digest('hex')}`;
  return {
    eventId,
    type: `${objectType}/${callback.Action}`,
    objectType,
    objectId: String(callback.ID),
    payload: {
      action: callback.Action,
      companyId: callback.CompanyId,
      memberId: callback.MemberId ?? null,
      fromUrl: callback.FromUrl ?? null,
      entity: entityOf(callback.Entity),
    },
  };
}

/** The record as ConnectWise sent it, or null when it sent none or not JSON. */
function entityOf(entity: string | null | undefined): Record<string, unknown> | null {
  if (typeof entity !== 'string') return null;
  try {
    const parsed: unknown = JSON.parse(entity);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
