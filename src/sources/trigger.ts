import { z } from 'zod';
import type { SourceEvent, SourceRecord } from './kind.js';

/**
 * Which events onboard a customer (docs/sources.md "trigger"): the event's type among
 * `event_types` (when given) and every condition's field equal to one of its values. An event
 * that does not match is `ignored`, with a reason a person reads on the Sources page: "deal stage
 * is appointmentscheduled, not closedwon".
 */

const value = z.union([z.string(), z.number(), z.boolean()], { error: 'must be text, a number or true/false' });

export const conditionSchema = z.strictObject({
  /** A dotted path of the record, e.g. `deal.dealstage`. */
  field: z.string({ error: 'must be a field path' }).trim().min(1, 'must not be empty'),
  equals: z.array(value, { error: 'must be a list of values' }).min(1, 'must list at least one value'),
  /** How the reason names the field ("deal stage"); default: the path. */
  label: z.string().trim().min(1).optional(),
});

export const triggerSchema = z.strictObject({
  event_types: z
    .array(z.string().trim().min(1))
    .min(1, 'must list at least one type; leave it out for every type')
    .optional(),
  all: z.array(conditionSchema, { error: 'must be a list of conditions' }),
});
export type Trigger = z.infer<typeof triggerSchema>;

export type TriggerVerdict = { match: true } | { match: false; reason: string };

/** At most this much of a value goes into a reason. */
const MAX_SHOWN = 80;

function shown(v: unknown): string {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
}

/** Whether the event and its record onboard a customer, and why not. */
export function applyTrigger(trigger: Trigger, event: SourceEvent, record: SourceRecord): TriggerVerdict {
  if (trigger.event_types && !trigger.event_types.includes(event.type))
    return { match: false, reason: `event type ${shown(event.type)} is not ${trigger.event_types.join(' or ')}` };
  for (const condition of trigger.all) {
    const actual = record.fields[condition.field];
    const candidates = Array.isArray(actual) ? actual : [actual];
    const wanted = condition.equals.map(String);
    if (candidates.some((c) => c !== undefined && c !== null && wanted.includes(String(c)))) continue;
    const label = condition.label ?? condition.field;
    const is = actual === undefined || actual === null ? 'missing' : shown(actual);
    return { match: false, reason: `${label} is ${is}, not ${wanted.join(' or ')}` };
  }
  return { match: true };
}
