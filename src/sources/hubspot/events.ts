import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ParsedBody, SourceEvent } from '../kind.js';

/**
 * The two bodies HubSpot posts (docs/sources.md "HubSpot", payloads):
 * - an app's webhook subscription: a JSON array of thin events (under 100 a request);
 * - a workflow's "Send a webhook" action: the enrolled object's JSON, as its object API returns it.
 */

const Id = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,20}$/)]).transform(String);

/** HubSpot's numeric object type ids, for `object.*` (generic) subscriptions. */
const OBJECT_TYPE_IDS: Readonly<Record<string, string>> = {
  '0-1': 'contact',
  '0-2': 'company',
  '0-3': 'deal',
  '0-7': 'product',
  '0-8': 'line_item',
};

/** One event of an app webhook batch; other fields HubSpot adds are kept in the payload. */
const AppEvent = z
  .looseObject({
    eventId: Id,
    subscriptionId: Id,
    portalId: Id,
    appId: Id.optional(),
    occurredAt: z.number().int().nonnegative(),
    // Deliveries name it subscriptionType; the Webhooks page's own example names it eventType.
    subscriptionType: z.string().min(1).max(100).optional(),
    eventType: z.string().min(1).max(100).optional(),
    attemptNumber: z.number().int().nonnegative().optional(),
    objectId: Id,
    objectTypeId: z.string().max(20).optional(),
    propertyName: z.string().max(200).optional(),
    propertyValue: z.string().max(65_536).nullable().optional(),
    changeSource: z.string().max(100).optional(),
  })
  .refine((event) => event.subscriptionType ?? event.eventType, {
    message: 'has neither subscriptionType nor eventType',
  });

type AppEvent = z.output<typeof AppEvent>;

const AppBatch = z.array(AppEvent).min(1).max(100);

function objectTypeOf(event: AppEvent, type: string): string {
  const prefix = type.split('.')[0] ?? type;
  if (prefix !== 'object') return prefix;
  return OBJECT_TYPE_IDS[event.objectTypeId ?? ''] ?? `object-${event.objectTypeId ?? 'unknown'}`;
}

function fromAppEvent(event: AppEvent): SourceEvent {
  const type = (event.subscriptionType ?? event.eventType) as string;
  const payload: Record<string, unknown> = { ...event, subscriptionType: type };
  return {
    // eventId repeats across HubSpot's retries of one event (attemptNumber grows); it is unique per subscription.
    eventId: `${event.subscriptionId}-${event.eventId}`,
    type,
    objectType: objectTypeOf(event, type),
    objectId: event.objectId,
    payload,
  };
}

/** A property as the legacy (v1) object APIs give it, `{value, timestamp, source, versions}`, or a v3 string. */
const PropertyValue = z.union([z.looseObject({ value: z.unknown() }).transform((p) => p.value), z.unknown()]);

/** The object a workflow posts: legacy v1 JSON (dealId, companyId, vid) or v3 JSON (id, properties). */
const WorkflowObject = z.looseObject({
  dealId: Id.optional(),
  companyId: Id.optional(),
  vid: Id.optional(),
  'canonical-vid': Id.optional(),
  id: Id.optional(),
  hs_object_id: Id.optional(),
  portalId: Id.optional(),
  properties: z.record(z.string(), PropertyValue).optional(),
});

type WorkflowObject = z.output<typeof WorkflowObject>;

/** Legacy JSON says its type by its id field; v3 JSON does not, so the source file says which object its workflow enrolls. */
function workflowTarget(body: WorkflowObject, defaultType: string): { objectType: string; objectId: string } | null {
  if (body.dealId) return { objectType: 'deal', objectId: body.dealId };
  if (body.companyId) return { objectType: 'company', objectId: body.companyId };
  const vid = body['canonical-vid'] ?? body.vid;
  if (vid) return { objectType: 'contact', objectId: vid };
  const id = body.id ?? body.hs_object_id ?? (body.properties?.hs_object_id as string | undefined);
  return id && /^\d{1,20}$/.test(String(id)) ? { objectType: defaultType, objectId: String(id) } : null;
}

function flatProperties(body: WorkflowObject): Record<string, unknown> {
  const flat: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body.properties ?? {})) flat[name] = value;
  // A "Send a webhook" action with chosen properties sends them at the top level.
  for (const [name, value] of Object.entries(body)) {
    if (name !== 'properties' && name !== 'associations' && typeof value !== 'object') flat[name] ??= value;
  }
  return flat;
}

function fromWorkflowObject(body: WorkflowObject, rawBody: Buffer, defaultType: string): ParsedBody {
  const target = workflowTarget(body, defaultType);
  if (!target) return { ok: false, reason: 'the workflow body names no object id (dealId, companyId, vid, id)' };
  return {
    ok: true,
    events: [
      {
        // A workflow webhook carries no event id; its retries resend the same bytes.
        eventId: `workflow-${createHash('sha256').update(rawBody).digest('hex').slice(0, 32)}`,
        type: 'workflow',
        objectType: target.objectType,
        objectId: target.objectId,
        payload: { portalId: body.portalId, properties: flatProperties(body) },
      },
    ],
  };
}

function issueText(error: z.ZodError): string {
  const issue = error.issues[0];
  const at = issue?.path.length ? issue.path.join('.') : '(body)';
  return `${at}: ${issue?.message ?? 'not readable'}`;
}

/** The body's events, or why it is not a HubSpot body; never throws. */
export function parseHubSpotBody(rawBody: Buffer, workflowObjectType = 'deal'): ParsedBody {
  let json: unknown;
  try {
    json = JSON.parse(rawBody.toString('utf8'));
  } catch {
    return { ok: false, reason: 'the body is not JSON' };
  }
  if (Array.isArray(json)) {
    const batch = AppBatch.safeParse(json);
    if (!batch.success) return { ok: false, reason: `not a HubSpot webhook batch: ${issueText(batch.error)}` };
    return { ok: true, events: batch.data.map(fromAppEvent) };
  }
  const object = WorkflowObject.safeParse(json);
  if (!object.success || json === null || typeof json !== 'object') {
    return {
      ok: false,
      reason: `not a HubSpot workflow body: ${object.success ? 'not an object' : issueText(object.error)}`,
    };
  }
  return fromWorkflowObject(object.data, rawBody, workflowObjectType);
}
