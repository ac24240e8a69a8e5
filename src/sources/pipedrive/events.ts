import { z } from 'zod';
import type { ParsedBody } from '../kind.js';

/**
 * A Pipedrive webhooks v2 body: `{meta, data, previous}` (https://pipedrive.readme.io/docs/guide-for-webhooks-v2,
 * "Webhook format"; samples in test/fixtures/sources/pipedrive). `data` is the object now (null on
 * delete), `previous` only the fields that changed (null on create).
 */
const Id = z.union([z.string().min(1).max(100), z.number().int()]).transform(String);

export const webhookSchema = z
  .object({
    meta: z
      .object({
        action: z.string().min(1).max(20),
        entity: z.string().min(1).max(50),
        entity_id: Id,
        id: z.string().min(1).max(100),
        company_id: Id.nullish(),
        webhook_id: Id.nullish(),
        attempt: z.number().int().nullish(),
        change_source: z.string().nullish(),
        version: z.string().nullish(),
        timestamp: z.string().nullish(),
      })
      .loose(),
    data: z.record(z.string(), z.unknown()).nullable(),
    previous: z.record(z.string(), z.unknown()).nullable(),
  })
  .loose();

export function parseWebhook(rawBody: Buffer): ParsedBody {
  let body: unknown;
  try {
    body = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the webhook body is not JSON' };
  }
  const parsed = webhookSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return { ok: false, reason: `the webhook's ${issue?.path.join('.') || 'body'} is invalid: ${issue?.message}` };
  }
  const { meta, data, previous } = parsed.data;
  return {
    ok: true,
    events: [
      {
        // meta.id is the event's own id: the same on every attempt (only meta.attempt grows).
        eventId: meta.id,
        type: `${meta.action}.${meta.entity}`,
        objectType: meta.entity,
        objectId: meta.entity_id,
        payload: {
          action: meta.action,
          companyId: meta.company_id ?? null,
          webhookId: meta.webhook_id ?? null,
          attempt: meta.attempt ?? null,
          changeSource: meta.change_source ?? null,
          data,
          previous,
        },
      },
    ],
  };
}
